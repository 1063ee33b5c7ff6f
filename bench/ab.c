// ab: an A/B timer for one change, robust to a noisy machine. It runs command A and command B alternately (the
// order flipping every pair) N times each, after 3 warm-up pairs, and prints the median of A, the median of B and
// the median of the B/A ratios of the pairs, with their quartiles. Each command's output goes to /dev/null; a
// command that fails stops the run.
//
//   cc -O2 -o ab bench/ab.c
//   ./ab 150 /path/old-podrun --root /tmp/s run --bundle B a -- /path/new-podrun --root /tmp/s run --bundle B b
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double run(char **argv) {
    double start = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    double elapsed = now_ms() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "ab: %s failed\n", argv[0]);
        exit(1);
    }
    return elapsed;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: ab N COMMAND-A... -- COMMAND-B...\n");
        return 2;
    }
    int n = atoi(argv[1]);
    char **a = argv + 2;
    int split = 2;
    while (split < argc && strcmp(argv[split], "--") != 0) split++;
    if (n < 4 || split >= argc - 1) {
        fprintf(stderr, "usage: ab N COMMAND-A... -- COMMAND-B...\n");
        return 2;
    }
    argv[split] = NULL;
    char **b = argv + split + 1;
    double *ta = malloc(n * sizeof *ta), *tb = malloc(n * sizeof *tb), *ratio = malloc(n * sizeof *ratio);
    for (int i = 0; i < 3; i++) {
        run(a);
        run(b);
    }
    for (int i = 0; i < n; i++) {
        if (i & 1) {
            tb[i] = run(b);
            ta[i] = run(a);
        } else {
            ta[i] = run(a);
            tb[i] = run(b);
        }
        ratio[i] = tb[i] / ta[i];
    }
    qsort(ta, n, sizeof *ta, compare);
    qsort(tb, n, sizeof *tb, compare);
    qsort(ratio, n, sizeof *ratio, compare);
    printf("A %.3f ms  B %.3f ms  B/A %.3f (quartiles %.3f %.3f)\n", ta[n / 2], tb[n / 2], ratio[n / 2], ratio[n / 4],
           ratio[3 * n / 4]);
    return 0;
}
