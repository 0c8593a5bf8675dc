/* The command's terminal.  When pipjail's stdin, stdout or stderr is a
 * terminal, the command never gets it: the supervisor opens a
 * pseudo-terminal of its own (the host's /dev/ptmx; its slave is not
 * visible in the jail, whose /dev/pts is a new instance), the jail's init
 * puts the slave on each of the command's stdio that was the terminal and
 * makes it the controlling terminal of the command's session
 * (src/jail/init.c), and this file copies bytes both ways between the
 * master and the user's terminal.  Package code can then inject nothing
 * into the user's shell, read nothing typed after pipjail ends, and never
 * hold the user's terminal: only this process does.
 *
 * The user's terminal is in raw mode while the command runs (pipjail in
 * the foreground): keystrokes pass as they are typed, the pseudo-terminal's
 * line discipline echoes and edits them as a real terminal would, and its
 * output is copied byte for byte (OPOST off: the pseudo-terminal already
 * did the output processing).  ISIG stays on: Ctrl-C, Ctrl-\ and Ctrl-Z
 * still signal pipjail itself, which forwards SIGINT/SIGQUIT to the jail as
 * it does without a terminal (a second Ctrl-C kills the jail) and, for
 * Ctrl-Z, gives the terminal back to the shell while it is stopped.  The
 * terminal's settings are restored on every way out: the end of the run,
 * die() (atexit), a fatal signal in pipjail, a stop; and as soon as the
 * jail is being killed (a timeout, a second Ctrl-C), so that pipjail's own
 * lines start at the margin.  Only SIGKILL of
 * pipjail leaves it raw (`reset` or `stty sane` restores it).
 *
 * Everything here runs on the supervisor's side. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "jail/jail.h"
#include "run/internal.h"
#include "base/base.h"

/* One direction of the copy: read from `from` when nothing is held, write
 * what is held to `to`; never blocks. */
struct flow {
	int from, to;
	bool from_eof;        /* nothing more will come */
	bool to_dead;         /* the other end is gone: what comes is dropped */
	bool paused;          /* do not read now (what is typed, in the background) */
	char *buf;
	size_t size, off, len;
};

struct pty {
	int master;           /* our side of the command's terminal, non-blocking */
	int slave;            /* until the clone: init takes its copy */
	int in_fd;            /* the user's terminal, read side; -1: stdin is no terminal */
	int out_fd;           /* the user's terminal, write side */
	struct flow out;      /* master -> the user's terminal */
	struct flow in;       /* the user's terminal -> master */
	uint32_t master_ev, in_ev, out_ev;   /* what epoll watches (0: not registered) */
	int epfd;
	char obuf[16384], ibuf[4096];
};

/* The user's terminal settings, for the handlers (atexit, fatal signals,
 * SIGTSTP, SIGCONT): only what async-signal-safe calls need. */
static struct {
	volatile sig_atomic_t want_raw;  /* stdin is a terminal and the run is on */
	volatile sig_atomic_t raw;       /* the terminal is in our raw mode */
	int fd;
	pid_t owner;                 /* the supervisor: a forked child restores nothing */
	struct termios saved, raw_tio;
	int winsz_from;              /* where the window size is read (the user's terminal) */
	int master;                  /* where it goes */
} term = { .fd = -1, .winsz_from = -1, .master = -1 };

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static struct sigaction fatal_old[ARRAY_SIZE(fatal_signals)];
static struct sigaction tstp_old, cont_old;
static bool handlers_installed;

static void term_restore(void)
{
	if (term.raw && getpid() == term.owner) {
		tcsetattr(term.fd, TCSADRAIN, &term.saved);
		term.raw = 0;
	}
}

static void copy_winsize(void)
{
	struct winsize ws;

	if (term.winsz_from >= 0 && term.master >= 0 && ioctl(term.winsz_from, TIOCGWINSZ, &ws) == 0)
		ioctl(term.master, TIOCSWINSZ, &ws);
}

/* Raw mode (and reading what is typed) only in the foreground: a
 * background pipjail (started with &, or after `bg`) would stop on SIGTTOU
 * or SIGTTIN; it copies the command's output only, as a background job's
 * output went before, and takes the keyboard when brought back with `fg`. */
static void term_raw(void)
{
	if (term.want_raw && !term.raw && getpid() == term.owner &&
	    tcgetpgrp(term.fd) == getpgrp() && tcsetattr(term.fd, TCSADRAIN, &term.raw_tio) == 0)
		term.raw = 1;
}

static void on_atexit(void)
{
	term_restore();
}

/* A crash of pipjail itself: give the terminal back, then let the previous
 * action (the default, or a sanitizer's report) take the signal.  A fault
 * happens again on return; a sent signal is raised again. */
static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	int e = errno;

	(void)uc;
	term_restore();
	for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &fatal_old[i], NULL);
	if (si->si_code <= 0)
		raise(sig);
	errno = e;
}

/* Ctrl-Z: the shell gets its terminal back while pipjail is stopped (the
 * jail runs on; its output waits in the pseudo-terminal) ... */
static void on_tstp(int sig)
{
	int e = errno;

	(void)sig;
	term_restore();
	kill(getpid(), SIGSTOP);
	errno = e;
}

/* ... and raw mode comes back with `fg` (any continue, in the foreground),
 * with the window size of then. */
static void on_cont(int sig)
{
	int e = errno;

	(void)sig;
	term_raw();
	copy_winsize();
	errno = e;
}

static void install_handlers(void)
{
	static bool at_exit;
	struct sigaction sa = { .sa_sigaction = on_fatal, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction st = { .sa_handler = on_tstp, .sa_flags = SA_RESTART };
	struct sigaction sc = { .sa_handler = on_cont, .sa_flags = SA_RESTART };

	if (handlers_installed)
		return;
	handlers_installed = true;
	if (!at_exit)
		atexit(on_atexit);
	at_exit = true;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
		sigaction(fatal_signals[i], &sa, &fatal_old[i]);
	sigemptyset(&st.sa_mask);
	sigaction(SIGTSTP, &st, &tstp_old);
	sigemptyset(&sc.sa_mask);
	sigaction(SIGCONT, &sc, &cont_old);
}

static void remove_handlers(void)
{
	if (!handlers_installed)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
		sigaction(fatal_signals[i], &fatal_old[i], NULL);
	sigaction(SIGTSTP, &tstp_old, NULL);
	sigaction(SIGCONT, &cont_old, NULL);
	handlers_installed = false;   /* atexit stays: term_restore does nothing then */
}

/* A new open file description of the terminal behind fd (through
 * /proc/self/fd), so that O_NONBLOCK is ours alone and not the shell's;
 * a plain dup when the reopen is refused. */
static int reopen(int fd, int mode)
{
	char path[32];
	int n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = open(path, mode | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	return n >= 0 ? n : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int pty_open(struct run *r)
{
	struct pty *p;
	struct termios tio;
	unsigned int stdio = 0;
	int from = -1;

	for (int i = 0; i < 3; i++)
		if (isatty(i))
			stdio |= 1u << i;
	if (!stdio)
		return 0;   /* pipes and files pass as they are */
	p = xcalloc(1, sizeof(*p));
	*p = (struct pty){ .master = -1, .slave = -1, .in_fd = -1, .out_fd = -1, .epfd = -1 };
	p->out = (struct flow){ .from = -1, .to = -1, .buf = p->obuf, .size = sizeof(p->obuf) };
	p->in = (struct flow){ .from = -1, .to = -1, .buf = p->ibuf, .size = sizeof(p->ibuf) };
	r->pty = p;
	/* Settings and size come from the user's terminal: stdin's when it is
	 * one, else the output's. */
	from = (stdio & 1) ? 0 : (stdio & 2) ? 1 : 2;
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0)
		goto fail;
	p->slave = ioctl(p->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0) {
		char name[64];

		if (ptsname_r(p->master, name, sizeof(name)) != 0)
			goto fail;
		p->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (p->slave < 0)
			goto fail;
	}
	/* Only a holder of the descriptor may use it: reopening it by
	 * /proc/PID/fd/N in the jail (as the user, not root) is refused by the
	 * device's own permissions. */
	if (fchmod(p->slave, 0600) < 0)
		debugx(1, "pty: fchmod of the slave: %s", strerror(errno));
	if (tcgetattr(from, &tio) == 0)
		tcsetattr(p->slave, TCSANOW, &tio);
	if (fcntl(p->master, F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	term.master = p->master;
	term.winsz_from = from;
	copy_winsize();
	r->cfg->tty_fd = p->slave;
	r->cfg->tty_stdio = stdio;

	/* What the command writes goes to stdout's terminal, else stderr's;
	 * when only stdin is a terminal, to it (the echo of what is typed). */
	p->out_fd = reopen((stdio & 2) ? 1 : (stdio & 4) ? 2 : 0, O_WRONLY);
	if (stdio & 1) {
		p->in_fd = reopen(0, O_RDONLY);
		if (p->in_fd < 0 || tcgetattr(p->in_fd, &term.saved) < 0)
			goto fail;
		term.raw_tio = term.saved;
		cfmakeraw(&term.raw_tio);
		term.raw_tio.c_lflag |= ISIG;   /* Ctrl-C signals pipjail, as without a terminal */
		term.fd = p->in_fd;
		term.owner = getpid();
	}
	if (p->out_fd < 0)
		goto fail;
	p->out.from = p->in.to = p->master;
	p->out.to = p->out_fd;
	p->in.from = p->in_fd;
	p->in.from_eof = p->in_fd < 0;
	return 0;
fail:
	warn_errno("a pseudo-terminal for the command (it never gets yours)");
	pty_finish(r);
	return -1;
}

/* Watch fd for events (0: not at all; EPOLLHUP would wake us forever). */
static void watch(struct pty *p, int fd, uint32_t *cur, uint32_t want)
{
	struct epoll_event ev = { .events = want, .data.fd = fd };

	if (fd < 0 || *cur == want)
		return;
	if (epoll_ctl(p->epfd, !want ? EPOLL_CTL_DEL : *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
		      &ev) < 0)
		warn_errno("pty: epoll_ctl");
	*cur = want;
}

/* true: bytes moved. */
static bool flow_step(struct flow *f)
{
	bool moved = false;
	ssize_t n;

	if (!f->len && !f->from_eof && !f->paused && f->from >= 0) {
		n = read(f->from, f->buf, f->size);
		if (n > 0) {
			f->off = 0;
			f->len = (size_t)n;
			moved = true;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			f->from_eof = true;   /* the master's EIO: nothing in the jail holds it now */
		}
	}
	if (f->len) {
		n = f->to_dead ? -1 : write(f->to, f->buf + f->off, f->len);
		if (n > 0) {
			f->off += (size_t)n;
			f->len -= (size_t)n;
			moved = true;
		} else if (f->to_dead || (errno != EAGAIN && errno != EINTR)) {
			f->to_dead = true;
			f->len = 0;
		}
	}
	return moved;
}

/* Move what can move without blocking, both ways; then watch for more. */
static void pump(struct pty *p)
{
	bool moved;

	do {
		if (p->out.from_eof)
			p->in.to_dead = true;
		p->in.paused = !term.raw;
		moved = flow_step(&p->out);
		moved |= flow_step(&p->in);
	} while (moved);
	if (p->epfd < 0)
		return;
	watch(p, p->master, &p->master_ev, (!p->out.from_eof && !p->out.len ? EPOLLIN : 0) |
	      (!p->in.to_dead && p->in.len ? EPOLLOUT : 0));
	watch(p, p->out_fd, &p->out_ev, p->out.len ? EPOLLOUT : 0);
	/* Edge-triggered: while paused, what is typed wakes us once, not in a
	 * loop; once raw again, the next key brings it all (each read goes on
	 * to EAGAIN, or stops on the master's back-pressure, which EPOLLOUT on
	 * the master resumes). */
	watch(p, p->in_fd, &p->in_ev, !p->in.from_eof && !p->in.len ? EPOLLIN | EPOLLET : 0);
}

void pty_started(struct run *r)
{
	struct pty *p = r->pty;

	if (!p)
		return;
	/* The jail's init holds the slave now (or the clone failed): ours
	 * goes, so that the master reads EIO once the jail is gone. */
	closep(&p->slave);
	r->cfg->tty_fd = -1;
	p->epfd = r->epfd;
	if (p->in_fd >= 0) {
		install_handlers();
		term.want_raw = 1;
		term_raw();
	}
	pump(p);
}

void pty_handle(struct run *r, int fd)
{
	struct pty *p = r->pty;

	if (p && p->epfd >= 0 && (fd == p->master || fd == p->in_fd || fd == p->out_fd))
		pump(p);
}

bool pty_resize(struct run *r)
{
	if (!r->pty)
		return false;
	copy_winsize();   /* the kernel signals the pseudo-terminal's foreground group */
	return true;
}

void pty_release(struct run *r)
{
	if (!r->pty)
		return;
	r->pty->in.from_eof = true;
	r->pty->in.len = 0;
	term.want_raw = 0;
	term_restore();
}

/* The jail is gone (or never ran): what it wrote is all in the master
 * (the kernel flushes a closed slave's output before reading EIO), and it
 * reaches the user's terminal before pipjail's own report. */
void pty_finish(struct run *r)
{
	struct pty *p = r->pty;

	if (!p)
		return;
	if (p->epfd >= 0) {
		p->in.from_eof = true;   /* what is typed from now on is the shell's */
		p->in.len = 0;
		for (;;) {
			pump(p);
			if (!p->out.len)
				break;
			struct pollfd pf = { .fd = p->out_fd, .events = POLLOUT };

			if (poll(&pf, 1, -1) < 0 && errno != EINTR)
				break;
		}
		watch(p, p->master, &p->master_ev, 0);
		watch(p, p->in_fd, &p->in_ev, 0);
		watch(p, p->out_fd, &p->out_ev, 0);
	}
	term.want_raw = 0;
	term_restore();
	remove_handlers();
	term.fd = term.master = term.winsz_from = -1;
	closep(&p->master);
	closep(&p->slave);
	closep(&p->in_fd);
	closep(&p->out_fd);
	r->cfg->tty_fd = -1;
	r->cfg->tty_stdio = 0;
	free(p);
	r->pty = NULL;
}
