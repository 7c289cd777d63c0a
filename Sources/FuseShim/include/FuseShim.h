#ifndef SYNAPSEFS_FUSESHIM_H
#define SYNAPSEFS_FUSESHIM_H
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

// Real functions for libfuse entry points that are macros or versioned symbols on some builds.
struct fuse_session *sfs_session_new(struct fuse_args *args, const struct fuse_lowlevel_ops *ops, void *userdata);
int sfs_session_loop_mt(struct fuse_session *se, unsigned int max_threads);
// mallopt(M_ARENA_MAX, n): <malloc.h> is not part of Swift's Glibc module.
int sfs_malloc_arena_max(int n);
#endif
