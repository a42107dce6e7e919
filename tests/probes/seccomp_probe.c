/* Makes one syscall that busybox cannot make and prints its outcome: "ok" or "errno N".
 * Built statically by tests/seccomp.rs and copied into the container.
 *
 *   seccomp-probe unshare-user | mount | keyctl | ptrace-attach | kexec-load |
 *                 open-by-handle-at | clone3 | personality HEX | socket FAMILY | syscall NR |
 *                 thread
 *
 * The arguments are chosen so that, without a seccomp filter, each call fails (if it fails)
 * with an errno other than EPERM, before doing anything: the tests compare both runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long ptrace_attach_child(void) {
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        pause();
        _exit(0);
    }
    long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
    int saved = errno;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    errno = saved;
    return r;
}

static void *thread_main(void *arg) {
    return arg;
}

/* A thread as a language runtime starts one: glibc tries clone3 and, on ENOSYS, clone. */
static long start_thread(void) {
    pthread_t t;
    int e = pthread_create(&t, NULL, thread_main, NULL);
    if (e == 0)
        e = pthread_join(t, NULL);
    errno = e;
    return e ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s TEST [ARG]\n", argv[0]);
        return 2;
    }
    const char *t = argv[1];
    const char *arg = argc > 2 ? argv[2] : "0";
    long r;
    if (!strcmp(t, "unshare-user"))
        r = syscall(SYS_unshare, CLONE_NEWUSER);
    else if (!strcmp(t, "mount"))
        /* MS_NOUSER is refused with EINVAL before any permission check. */
        r = syscall(SYS_mount, NULL, "/", NULL, MS_NOUSER, NULL);
    else if (!strcmp(t, "keyctl"))
        /* KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING, without creating it. */
        r = syscall(SYS_keyctl, 0, -3, 0);
    else if (!strcmp(t, "ptrace-attach"))
        r = ptrace_attach_child();
    else if (!strcmp(t, "kexec-load"))
        /* More than KEXEC_SEGMENT_MAX segments: EINVAL for a caller with CAP_SYS_BOOT. */
        r = syscall(SYS_kexec_load, 0, 1000, NULL, 0);
    else if (!strcmp(t, "open-by-handle-at"))
        r = syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0);
    else if (!strcmp(t, "clone3"))
        /* A NULL, zero-sized clone_args: EINVAL from the kernel. */
        r = syscall(SYS_clone3, NULL, 0);
    else if (!strcmp(t, "personality"))
        r = syscall(SYS_personality, strtoul(arg, NULL, 16));
    else if (!strcmp(t, "socket"))
        r = socket(atoi(arg), SOCK_SEQPACKET, 0);
    else if (!strcmp(t, "thread"))
        r = start_thread();
    else if (!strcmp(t, "syscall"))
        r = syscall(atol(arg), 0, 0, 0, 0, 0, 0);
    else {
        fprintf(stderr, "unknown test %s\n", t);
        return 2;
    }
    if (r == -1)
        printf("errno %d\n", errno);
    else
        printf("ok\n");
    return 0;
}
