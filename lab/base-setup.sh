#!/bin/sh
# etcdwiz lab: run once, by `etcdwiz lab up`, inside the freshly
# debootstrapped base tree (chroot BASE /bin/sh /base-setup.sh).
# It turns a minbase Debian 12 into the shared lower layer of every lab
# host. Per-host things (machine-id, hostname, SSH host key, authorized_keys,
# /etc/hosts, the kubelet stand-in) are written later into each host's own
# overlay upper layer. LAB ONLY: never run this on a real machine.
set -eu

# etcd-server is installed for its /usr/bin/etcd binary only: the one etcd
# a lab host runs is the static pod that the kubelet stand-in starts.
# Its data directory stays as the package leaves it.
rm -f /etc/systemd/system/multi-user.target.wants/etcd.service
ln -sf /dev/null /etc/systemd/system/etcd.service

# No network beyond the lab, no consoles, no timers that fetch things.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
	e2scrub_reap.service fstrim.timer console-getty.service \
	systemd-timesyncd.service; do
	ln -sf /dev/null "/etc/systemd/system/$unit"
done

# Identity is per host: the base carries none.
rm -f /etc/ssh/ssh_host_*
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -s /etc/machine-id /var/lib/dbus/machine-id

# sshd: one ed25519 host key per host (its fingerprint is pinned in the
# lab's cluster file); keys for everyone, passwords for the sudo users.
cat >/etc/ssh/sshd_config.d/etcdwiz-lab.conf <<'CONF'
# etcdwiz lab host (not a production sshd configuration)
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
UseDNS no
MaxStartups 100:30:200
CONF

# Accounts (documented in `etcdwiz lab --help` and the README):
#   root   lab key only (password locked)
#   wiz    lab key or password "etcdwiz-lab"; sudo without a password
#   wizpw  lab key or password "etcdwiz-lab"; sudo asks for that password
passwd -l root >/dev/null
for u in wiz wizpw; do
	id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash -G sudo "$u"
	echo "$u:etcdwiz-lab" | chpasswd
done
echo 'wiz ALL=(ALL:ALL) NOPASSWD: ALL' >/etc/sudoers.d/etcdwiz-lab
chmod 0440 /etc/sudoers.d/etcdwiz-lab

# What kubeadm's kubelet package ships besides its binary and unit: an empty
# /etc/kubernetes/manifests (0755). Nothing else: /var/lib/kubelet, the
# drop-in directory /etc/systemd/system/kubelet.service.d and everything
# etcdwiz writes are made by kubelet or by etcdwiz's steps, as on a real host.
mkdir -p /etc/kubernetes/manifests
chmod 0755 /etc/kubernetes /etc/kubernetes/manifests

# Keep the journal small and in memory.
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' \
	>/etc/systemd/journald.conf.d/etcdwiz-lab.conf

apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/*.log /var/cache/debconf/*-old
