/* The restore on its screen: the engine's restore_run on a thread of its
 * own, its events recorded by the sink (tui.c), the bar redrawn by the main
 * thread four times a second; then the result and what to do next. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/engine/verify.h"
#include "muletto/fixup/fixup.h"
#include "tui_int.h"

/* The technician confirmed on the screen before: no second question. */
static int restore_confirmed(void *ctx, const char *target, uint64_t need)
{
	(void)ctx;
	(void)target;
	(void)need;
	return 0;
}

/* As the restore command does: when the machine or the disk differs from the
 * captured one, the restored system is made to boot here (muletto fixup). */
static void restore_fixup(struct tui *t)
{
	struct fixup_opts o = { .uefi = access("/sys/firmware/efi", F_OK) == 0 };
	struct fixup_report *reps;
	size_t n = 0, i, j, changed = 0, failed = 0, k;
	struct stat st;
	int r;

	t->fixup[0] = 0;
	if (!t->res.differs[0] || t->res.planned_only || stat(t->res.target, &st) < 0 ||
	    !S_ISBLK(st.st_mode) || !(reps = calloc(FIXUP_SYSTEMS_MAX, sizeof(*reps))))
		return;
	event_notice("this machine differs from the captured one (%s): fixing up the restored "
		     "system", t->res.differs);
	r = fixup_disk(t->res.target, &o, reps, FIXUP_SYSTEMS_MAX, &n);
	if (r == -ENOENT && n == 0) {
		snprintf(t->fixup, sizeof(t->fixup), "Fix-up: no operating system on the disk, "
			 "nothing to make boot.");
		free(reps);
		return;
	}
	k = (size_t)snprintf(t->fixup, sizeof(t->fixup), "Fix-up%s:", r < 0 ? " FAILED" : "");
	for (i = 0; i < n && k < sizeof(t->fixup); i++) {
		for (j = changed = failed = 0; j < reps[i].n; j++) {
			changed += reps[i].items[j].state == FIXUP_CHANGED;
			failed += reps[i].items[j].state == FIXUP_FAILED;
		}
		k += (size_t)snprintf(t->fixup + k, sizeof(t->fixup) - k, " %s on %s: %zu changed, "
				      "%zu failed;", reps[i].name, reps[i].partition, changed, failed);
	}
	if (r < 0 && k < sizeof(t->fixup))
		snprintf(t->fixup + k, sizeof(t->fixup) - k, " %s", err_msg());
	free(reps);
}

static void *restore_thread(void *arg)
{
	struct tui *t = arg;
	struct restore_request q = { .from = t->url, .name = t->image->name, .to = t->target,
				     .confirm = restore_confirmed, .ctx = t };

	memset(&t->res, 0, sizeof(t->res));
	t->rc = restore_run(&q, &t->res);
	str_copy(t->err, sizeof(t->err), t->rc < 0 ? err_msg() : "");
	t->fixup[0] = 0;
	if (t->rc == 0)
		restore_fixup(t);
	pthread_mutex_lock(&t->pr.lock);
	t->pr.finished = 1;
	pthread_mutex_unlock(&t->pr.lock);
	return NULL;
}

/* The numbers under the bar, from what the sink recorded. */
static int progress_text(struct tui *t, char *out, size_t size, uint64_t *done, uint64_t *total)
{
	char d[32], tot[32], rate[32], eta[32], notice[256], chunks[160] = "";
	double elapsed;
	int finished;

	pthread_mutex_lock(&t->pr.lock);
	*done = t->pr.done;
	*total = t->pr.total;
	human_size(t->pr.done, d, sizeof(d));
	human_size(t->pr.total, tot, sizeof(tot));
	human_size((uint64_t)t->pr.rate, rate, sizeof(rate));
	if (t->pr.eta >= 0 && t->pr.total)
		snprintf(eta, sizeof(eta), "%d:%02d", (int)t->pr.eta / 60, (int)t->pr.eta % 60);
	else
		str_copy(eta, sizeof(eta), "-");
	tui_ascii(t->pr.notice, notice, sizeof(notice));
	if (t->pr.has_chunks)
		snprintf(chunks, sizeof(chunks), "chunks: %llu of %llu: %llu fetched, %llu seeded, "
			 "%llu zero\n", (unsigned long long)(t->pr.chunks.fetched +
			 t->pr.chunks.seeded + t->pr.chunks.zero), (unsigned long long)t->pr.chunks.total,
			 (unsigned long long)t->pr.chunks.fetched, (unsigned long long)t->pr.chunks.seeded,
			 (unsigned long long)t->pr.chunks.zero);
	finished = t->pr.finished;
	elapsed = t->pr.elapsed;
	pthread_mutex_unlock(&t->pr.lock);
	snprintf(out, size, "%s of %s   %s/s   ETA %s   %.0f s\n%s%.140s", d, tot, rate, eta,
		 elapsed, chunks, notice);
	return finished;
}

/* fn(t) on a thread of its own, the bar and the numbers on the screen until
 * it returns (it sets t->pr.finished). 0, or -1 when it could not start. */
static int progress_run(struct tui *t, void *(*fn)(void *), const char *title, const char *what)
{
	newtComponent form, scale, tb;
	char text[512];
	uint64_t done, total;
	pthread_t th;
	int h = 12, timer, finished = 0;

	pthread_mutex_lock(&t->pr.lock);
	t->pr.done = t->pr.total = 0;
	t->pr.rate = t->pr.elapsed = 0;
	t->pr.eta = -1;
	t->pr.notice[0] = 0;
	t->pr.has_chunks = 0;
	t->pr.finished = 0;
	pthread_mutex_unlock(&t->pr.lock);
	if (pthread_create(&th, NULL, fn, t) != 0) {
		tui_message(title, "cannot start: out of resources");
		return -1;
	}
	newtCenteredWindow(TUI_W, h, title);
	form = newtForm(NULL, NULL, 0);
	scale = newtScale(2, 3, TUI_W - 4, 1000);
	tb = newtTextbox(2, 5, TUI_W - 4, 4, NEWT_FLAG_WRAP);
	newtFormAddComponents(form, newtLabel(2, 1, what), scale, tb, NULL);
	newtFormSetTimer(form, 250);
	while (!finished) {
		finished = progress_text(t, text, sizeof(text), &done, &total);
		newtScaleSet(scale, total ? done * 1000 / total : 0);
		newtTextboxSetText(tb, text);
		timer = 0;
		tui_form_run(form, &timer); /* keys other than F2 do nothing here */
	}
	pthread_join(th, NULL);
	newtFormDestroy(form);
	newtPopWindow();
	return 0;
}

enum tui_step tui_screen_progress(struct tui *t)
{
	char what[512], name[64];
	struct job *job;

	if (t->act == TUI_ACT_RUN)
		return tui_run_vm(t);
	if (t->act == TUI_ACT_SERVE)
		return tui_serve(t);
	snprintf(what, sizeof(what), "Restoring %s onto %s",
		 tui_ascii(t->image->name, name, sizeof(name)), t->target);
	tui_job_begin(t, "restore", t->target);
	if (progress_run(t, restore_thread, "Restore", what) < 0) {
		job_end(tui_job_take(t), 0, "could not start");
		return TUI_BACK;
	}
	job = tui_job_take(t);
	job_restore_result(job, &t->res, t->rc, t->target);
	job_restore_record(job, t->url, t->image->name, t->rc == 0, t->err);
	job_end(job, t->rc == 0, t->rc < 0 ? t->err : NULL);
	return TUI_NEXT;
}

static void *verify_thread(void *arg)
{
	struct tui *t = arg;
	struct verify_result res = { 0 };
	char tot[32];

	t->rc = verify_image(t->url, t->image->name, 0, &res);
	human_size(res.bytes, tot, sizeof(tot));
	if (t->rc == 0)
		snprintf(t->err, sizeof(t->err), "Image '%s' is intact: %zu distinct chunks, %s, "
			 "every one matches its id.", t->image->name, res.chunks, tot);
	else
		snprintf(t->err, sizeof(t->err), "%s", err_msg());
	pthread_mutex_lock(&t->pr.lock);
	t->pr.finished = 1;
	pthread_mutex_unlock(&t->pr.lock);
	return NULL;
}

void tui_verify(struct tui *t)
{
	char what[512], name[64], last[256];

	snprintf(what, sizeof(what), "Verifying every chunk of %s",
		 tui_ascii(t->image->name, name, sizeof(name)));
	tui_job_begin(t, "verify", NULL);
	if (progress_run(t, verify_thread, "Verify", what) < 0) {
		job_end(tui_job_take(t), 0, "could not start");
		return;
	}
	job_end(tui_job_take(t), t->rc == 0, t->rc < 0 ? t->err : NULL);
	str_copy(last, sizeof(last), t->pr.notice); /* the thread has ended: no lock needed */
	if (t->rc == 0)
		tui_message("Verify: intact", "%s", t->err);
	else
		tui_message("Verify: FAILED", "%s%s%s", t->err, last[0] ? "\n\nLast: " : "", last);
}

static void result_text(const struct tui *t, char *out, size_t size)
{
	const struct restore_stats *s = &t->res.st;
	char tot[32], fetched[32], rate[32];

	if (t->rc < 0) {
		snprintf(out, size, "The restore failed:\n\n%s", t->err);
		return;
	}
	human_size(s->bytes_total, tot, sizeof(tot));
	human_size(s->bytes_fetched, fetched, sizeof(fetched));
	human_size(s->seconds > 0 ? (uint64_t)((double)s->bytes_total / s->seconds) : 0, rate,
		   sizeof(rate));
	snprintf(out, size,
		 "Restored %s onto %s: %s in %.1f s (%s/s).\n%s fetched; chunks: %llu in all, "
		 "%llu fetched, %llu seeded (already there), %llu zero.\n%s%s%s%s%s",
		 t->res.what, t->res.target, tot, s->seconds, rate, fetched,
		 (unsigned long long)s->chunks_total, (unsigned long long)s->chunks_fetched,
		 (unsigned long long)s->chunks_seeded, (unsigned long long)s->chunks_zero,
		 t->res.laid_out ? "Partitions placed by the plan.\n" : "",
		 t->res.differs[0] ? "\nThis machine differs from the captured one (" : "",
		 t->res.differs, t->res.differs[0] ? ").\n" : "", t->fixup);
}

enum tui_step tui_screen_result(struct tui *t)
{
	newtComponent form, tb, reboot, poff, menu, shell, co;
	char text[4 * ERR_MSG_MAX], safe[sizeof(text)];
	int h = 18;

	result_text(t, text, sizeof(text));
	newtCenteredWindow(TUI_W, h, t->rc < 0 ? "Result: failed" : "Result: done");
	form = newtForm(NULL, NULL, 0);
	tb = newtTextbox(1, 1, TUI_W - 3, h - 7, NEWT_FLAG_WRAP);
	newtTextboxSetText(tb, tui_ascii(text, safe, sizeof(safe)));
	reboot = newtButton(2, h - 4, "Reboot");
	poff = newtButton(16, h - 4, "Power off");
	menu = newtButton(33, h - 4, "Menu");
	shell = newtButton(45, h - 4, "Shell");
	newtFormAddComponents(form, tb, reboot, poff, menu, shell, NULL);
	newtFormSetCurrent(form, t->rc < 0 ? menu : reboot);
	co = tui_form_run(form, NULL);
	newtFormDestroy(form);
	newtPopWindow();
	if (co == reboot)
		return TUI_REBOOT;
	if (co == poff)
		return TUI_POWEROFF;
	if (co == shell)
		return TUI_LEAVE_SHELL;
	return TUI_MENU;
}
