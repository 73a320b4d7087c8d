# Sourced by the tests that drive the wizard in a detached tmux (as tmux's
# own regress tests do), after they set SOCK (the tmux server's socket
# name); the pane is the session "wiz".
#   screen: the pane's text now; keys KEY...: tmux send-keys to it;
#   wait_screen SECONDS TEXT: until the pane shows TEXT (a fixed string),
#   polled once a second; on a timeout the pane goes to the log.
screen() { tmux -L "$SOCK" capture-pane -p -t wiz 2>/dev/null; }
keys() { tmux -L "$SOCK" send-keys -t wiz "$@"; }
wait_screen() {
	local limit=$1 i=0
	while [ "$i" -lt "$limit" ]; do
		screen | grep -qF -- "$2" && return 0
		tmux -L "$SOCK" has-session -t wiz 2>/dev/null || return 1
		sleep 1
		i=$((i + 1))
	done
	echo "# timed out after $limit s waiting for: $2"
	screen | sed 's/^/# /'
	return 1
}
