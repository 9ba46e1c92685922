/* deliver_remote: the loop that drives the uploads; see loop.h. */
#include <err.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "deliver.h"
#include "dest.h"
#include "log.h"
#include "marker.h"
#include "stop.h"
#include "loop.h"

/* Stop every transfer in flight; nonzero if a part was among them. */
static int
cancel_all(struct loop *L)
{
	struct upload *up;
	unsigned i;
	int parts = 0;

	for (up = L->first; up != NULL; up = up->next) {
		for (i = 0; i < up->nparts; i++)
			if (up->parts[i]->in_multi) {
				parts = 1;
				req_cancel(up->parts[i], &L->s);
			}
		if (up->single != NULL && up->single->in_multi)
			req_cancel(up->single, &L->s);
	}
	return parts;
}

/* Abort every multipart upload; again: NoSuchUpload is no failure. */
static void
abort_uploads(struct loop *L, int again)
{
	struct upload *up;
	struct req *a;

	for (up = L->first; up != NULL; up = up->next) {
		if (up->upload_id == NULL)
			continue;
		a = req_new(up, OP_ABORT, 0, NULL, 0);
		if (store_run_sync(&L->s, a, 10) == V_OK)
			log_info("multipart upload aborted", "key=%s "
			    "upload_id=%s", up->fullkey.data, up->upload_id);
		else if (!again || strcmp(a->code, "NoSuchUpload") != 0)
			warnx("%s: abort of upload %s failed: %s",
			    up->fullkey.data, up->upload_id, a->why);
		req_free(a, &L->s);
	}
}

/*
 * On a fatal error: cancel what is in flight and abort the multipart
 * uploads, so that no parts are left to pay for.  A part the store was
 * already taking in may land after the abort: as S3 advises, give such
 * parts a moment, and abort once more after.
 */
static void
abort_all(struct loop *L)
{
	int parts = cancel_all(L);

	abort_uploads(L, 0);
	if (parts) {
		usleep(300 * 1000);
		abort_uploads(L, 1);
	}
}

static void
turn(struct loop *L)
{
	struct curl_waitfd wfd = { STDIN_FILENO, CURL_WAIT_POLLIN, 0 };
	int input, running, left, tick;
	long timeout;
	CURLMsg *m;

	/* frames left buffered while memory was short come first */
	parse_buffered(L);
	input = want_input(L);
	timeout = store_kick(&L->s);
	if (timeout > 1000)
		timeout = 1000;
	if ((tick = report_timeout_ms(&L->rp)) >= 0 && tick < timeout)
		timeout = tick;
	if ((tick = markers_timeout_ms(L->mk)) >= 0 && tick < timeout)
		timeout = tick;
	curl_multi_poll(L->s.multi, input ? &wfd : NULL, input ? 1 : 0,
	    (int)timeout, NULL);
	if (input && (wfd.revents & (CURL_WAIT_POLLIN | POLLHUP | POLLERR)))
		read_input(L);
	curl_multi_perform(L->s.multi, &running);
	while ((m = curl_multi_info_read(L->s.multi, &left)) != NULL) {
		struct req *r;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&r);
		on_done(L, r, store_finish(&L->s, r, m->data.result));
		if (L->fatal)
			break;
	}
	spare_expire(L);
	report_tick(&L->rp);
	if (!L->fatal && markers_tick(L->mk) < 0)
		L->fatal = 1;
}

int
deliver_remote(const struct dest *d, const struct options *opt)
{
	struct loop L;
	char why[1024];
	int status;

	memset(&L, 0, sizeof(L));
	L.opt = opt;
	L.spool = -1;
	buf_init(&L.spare, 0);
	parts_init(&L.pin);
	if (store_init(&L.s, d, opt, why, sizeof(why)) < 0) {
		report_error("%s", why);
		store_release(&L.s);
		return EXIT_FAIL;
	}
	frame_reader_init(&L.r, STDIN_FILENO, "stdin");
	frame_init(&L.f);
	report_init(&L.rp, opt->progress);
	log_info("storing", "destination=%s signature=%s", d->base,
	    d->kind == DEST_COS ? "cos" : "sigv4");
	if (opt->orphan_age >= 0)
		store_abort_orphans(&L.s, opt);
	if ((L.mk = markers_open(d, opt, &status)) == NULL && status)
		L.fatal = 1;
	stop_catch();
	while (!L.fatal && (want_input(&L) || L.nlive > 0)) {
		turn(&L);
		ended_in_parts(&L);
		stop_tell();
		if (stop_now() && !L.fatal) {
			report_error("stopped by signal %d: %zu object%s in "
			    "flight not acked", stop_now(), L.nlive,
			    L.nlive == 1 ? "" : "s");
			L.fatal = 1;
		}
	}
	if (L.fatal)
		abort_all(&L);
	while (L.first != NULL)
		upload_free(&L, L.first);
	spool_drop(&L);
	buf_release(&L.spare);
	parts_release(&L.pin);
	status = L.fatal || L.input_error ? EXIT_FAIL : EXIT_OK;
	report_done(&L.rp, status == EXIT_OK);
	report_release(&L.rp);
	frame_release(&L.f);
	frame_reader_release(&L.r);
	markers_close(L.mk);
	store_release(&L.s);
	return status;
}
