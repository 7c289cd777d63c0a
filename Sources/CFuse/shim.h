#ifndef SYNAPSEFS_CFUSE_SHIM_H
#define SYNAPSEFS_CFUSE_SHIM_H
// 3.12: the newest API level at which fuse_session_loop_mt is still a plain symbol for Swift.
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <errno.h>
#endif
