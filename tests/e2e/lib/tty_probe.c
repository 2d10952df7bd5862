/* Probe of the sandbox's terminal confinement, built static by tests/e2e/sandbox_tty.sh.
 *   tty_probe caller TEXT  pushes TEXT into fd 0's input with TIOCSTI (the caller's tty)
 *   tty_probe own          opens a pty of its own, makes it its controlling tty and tries
 *                          TIOCSTI (also with high bits in the request) and TIOCLINUX on it
 * Prints one "NAME=ok" or "NAME=<errno name>" line per attempt. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long rc) {
  printf("%s=%s\n", name, rc == 0 ? "ok" : strerrorname_np(errno));
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "caller") == 0) {
    long rc = 0;
    for (const char *c = argv[2]; *c && rc == 0; ++c) rc = ioctl(0, TIOCSTI, c);
    report("caller_tiocsti", rc);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "own") == 0) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
      perror("posix_openpt");
      return 2;
    }
    if (getsid(0) != getpid() && setsid() < 0) perror("setsid");
    int slave = open(ptsname(master), O_RDWR); /* a session leader's first tty: its ctty */
    if (slave < 0) {
      perror("open pts");
      return 2;
    }
    char c = 'x';
    report("own_tiocsti", ioctl(slave, TIOCSTI, &c));
    report("own_tiocsti_high_bits", syscall(SYS_ioctl, slave, (1UL << 32) | TIOCSTI, &c));
    char subcode = 2; /* TIOCL_SETSEL */
    report("own_tioclinux", ioctl(slave, TIOCLINUX, &subcode));
    return 0;
  }
  fprintf(stderr, "usage: tty_probe caller TEXT | own\n");
  return 2;
}
