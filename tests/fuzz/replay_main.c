/* SPDX-License-Identifier: MPL-2.0 */
/*
 * replay_main.c - runs a libFuzzer target without libFuzzer: every file
 * named on the command line, and every file in every directory named there
 * (sorted, not recursive), is fed once to LLVMFuzzerTestOneInput.  The
 * target abort()s on a divergence.  With one input it runs in this process
 * (for a debugger); with several, each in a child process, so one failure
 * does not hide the next: all failing inputs are listed, and the exit
 * status is 1 if there was any.  This is how the normal build runs the
 * corpus and the regressions (fuzz_regress).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char **paths;
static size_t nr_paths, cap_paths;

static void add_path(const char *p)
{
	if (nr_paths == cap_paths) {
		cap_paths = cap_paths ? 2 * cap_paths : 64;
		paths = realloc(paths, cap_paths * sizeof(*paths));
		if (!paths)
			abort();
	}
	paths[nr_paths] = strdup(p);
	if (!paths[nr_paths++])
		abort();
}

static int skip_dot(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static int collect(const char *path)
{
	struct dirent **list;
	struct stat st;
	int n;

	if (stat(path, &st)) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_path(path);
		return 0;
	}
	n = scandir(path, &list, skip_dot, alphasort);
	if (n < 0) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(path) + strlen(list[i]->d_name) + 2;
		char *p = malloc(len);

		if (!p)
			abort();
		snprintf(p, len, "%s/%s", path, list[i]->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			add_path(p);
		free(p);
		free(list[i]);
	}
	free(list);
	return 0;
}

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		exit(1);
	}
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	size_t failed = 0;
	int err = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		err |= collect(argv[i]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (nr_paths == 1) {
		run_file(paths[0]);
	} else {
		for (size_t i = 0; i < nr_paths; i++) {
			pid_t pid;
			int status;

			fflush(NULL);
			pid = fork();
			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0) {
				run_file(paths[i]);
				fflush(NULL);
				_exit(0);
			}
			if (waitpid(pid, &status, 0) < 0) {
				perror("waitpid");
				return 1;
			}
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				paths[failed++] = paths[i]; /* [0, failed) reuse the array */
				fprintf(stderr, "replay: FAILED %s (%s %d)\n", paths[i],
					WIFSIGNALED(status) ? "signal" : "exit status",
					WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "replay: %zu inputs in %.2f s, %zu failed\n", nr_paths,
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, failed);
	for (size_t i = 0; i < failed; i++)
		fprintf(stderr, "  failed: %s\n", paths[i]);
	return err || failed ? 1 : 0;
}
