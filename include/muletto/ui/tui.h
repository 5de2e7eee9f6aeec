/* muletto tui: the technician's guided screens on a text console (80x25,
 * plain ASCII, a serial console at 115200 baud is enough).
 *
 * Built on libnewt: small (one library and libslang), the toolkit of Debian's
 * installer and of whiptail, so it is known to work on the consoles and
 * serial lines a recovery medium meets; ncurses would need us to write the
 * forms, entries and lists newt already has, dialog would need a process per
 * screen and secrets passed to it.
 *
 * The screens walk through network -> repository -> image -> action ->
 * target disk -> typed confirmation -> progress -> result. Every screen has
 * Back and F2 (a shell, then back to the screen). The restore is the engine's
 * restore_run, in this process: the password typed goes to the repository
 * through cred_set_asker, never into an argument, the environment or a log.
 * Library events are taken by a sink that only records them under a lock; the
 * screen is drawn from the main thread alone. */
#ifndef MULETTO_UI_TUI_H
#define MULETTO_UI_TUI_H

/* What the technician chose to do when leaving the screens. */
enum tui_exit {
	TUI_EXIT_SHELL = 0, /* leave to a shell */
	TUI_EXIT_REBOOT,
	TUI_EXIT_POWEROFF,
};

struct tui_opts {
	int no_network_changes; /* tests: never change the host's addresses */
	int ascii; /* lines drawn with + - | and text in 7-bit ASCII only (a serial
		    * terminal without VT100 line drawing or UTF-8) */
};

/* Runs the screens until the technician leaves them: 0 with *ret set, or a
 * negative code with a message (no terminal, newt could not start). */
int tui_main(const struct tui_opts *o, enum tui_exit *ret);

#endif
