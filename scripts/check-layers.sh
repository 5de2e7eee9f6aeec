#!/bin/sh
# The one-way rule of recovery/README.md, checked: a file may include the
# headers of its own folder and of the folders below it, never of a folder
# above it or beside it; and below cli/ nothing writes to a terminal.
# Prints one line per violation and exits 1 if there is any.
#   scripts/check-layers.sh [TOP]
set -eu
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"

# folder: the folders it may include (besides itself)
allowed() {
	case "$1" in
	core) echo "" ;;
	format) echo "core" ;;
	store) echo "core format" ;;
	disk) echo "core format" ;;
	layout) echo "core format disk" ;;
	engine) echo "core format store disk layout" ;;
	serve) echo "core format store disk layout engine" ;;
	fixup) echo "core format store disk layout engine" ;;
	vm) echo "core format store disk layout engine serve" ;;
	ui) echo "core format store disk engine serve layout fixup vm" ;;
	cli) echo "core format store disk engine serve layout fixup vm ui" ;;
	*) echo "UNKNOWN" ;;
	esac
}

bad=0
for f in $(find recovery include/muletto -name '*.[ch]' | sort); do
	case "$f" in
	recovery/*) layer=${f#recovery/} ;;
	include/muletto/*) layer=${f#include/muletto/} ;;
	esac
	case "$layer" in
	*/*) layer=${layer%%/*} ;;
	*) echo "$f: not in a layer folder"; bad=1; continue ;;
	esac
	ok=$(allowed "$layer")
	if [ "$ok" = UNKNOWN ]; then
		echo "$f: folder '$layer' is not in the layer list (scripts/check-layers.sh, recovery/README.md)"
		bad=1
		continue
	fi
	grep -n '#include "muletto/' "$f" | while IFS= read -r line; do
		n=${line%%:*}
		inc=$(echo "$line" | sed 's|.*#include "muletto/\([^"]*\)".*|\1|')
		case "$inc" in
		*/*) to=${inc%%/*} ;;
		*) echo "$f:$n: includes muletto/$inc, which is in no layer folder"; exit 1 ;;
		esac
		[ "$to" = "$layer" ] && continue
		case " $ok " in
		*" $to "*) ;;
		*) echo "$f:$n: $layer/ may not include $to/ (muletto/$inc): see recovery/README.md"; exit 1 ;;
		esac
	done || bad=1
	# The library reports through events (core/event.h); only cli/ prints.
	case "$layer" in cli) continue ;; esac
	case "$f" in *.c) ;; *) continue ;; esac
	if grep -nE '\b(printf|puts|putchar|perror|vprintf)\s*\(|\b(fprintf|fputs|fputc|vfprintf|fflush)\s*\(\s*(stderr|stdout)|\bdprintf\s*\(\s*(1|2|STDOUT_FILENO|STDERR_FILENO)\b|/dev/tty' "$f" |
		grep -v '^\s*[0-9]*:\s*/\?\*' >"${TMPDIR:-/tmp}/layers.$$"; then
		sed "s|^|$f:|; s|\$|  <- only cli/ prints; report an event (core/event.h)|" "${TMPDIR:-/tmp}/layers.$$"
		bad=1
	fi
	rm -f "${TMPDIR:-/tmp}/layers.$$"
done
[ "$bad" = 0 ] && echo "layers: every include follows recovery/README.md; only cli/ prints"
exit "$bad"
