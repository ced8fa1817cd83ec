/*
 * schedIdle(): puts the calling thread in Linux's SCHED_IDLE class, where it
 * runs only when no other thread wants the CPU. Shard-worker threads call it
 * so that the node's main thread (the API, the plan's bookkeeping) is never
 * kept waiting behind shard work, whatever the load. Returns false where it
 * cannot (not Linux, or not allowed): the caller falls back to nice.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "xyn_native.h"
#ifdef __linux__
#include <sched.h>
#endif

napi_value sched_idle(napi_env env, napi_callback_info info) {
  (void)info;
  int ok = 0;
#ifdef __linux__
  struct sched_param param = {0};
  /* pid 0: the calling thread (a thread is a task of its own on Linux). */
  ok = sched_setscheduler(0, SCHED_IDLE, &param) == 0;
#endif
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}
