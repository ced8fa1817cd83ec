/* The functions of xyn's native addon (native/addon.c registers them). */
#ifndef XYN_NATIVE_H
#define XYN_NATIVE_H
#include <node_api.h>

/* sha256.c: hashing for the shard hot path and Merkle blocks. */
napi_value sha256_into(napi_env env, napi_callback_info info);
napi_value perfect_roots(napi_env env, napi_callback_info info);
napi_value shard_done(napi_env env, napi_callback_info info);

/* sched.c: scheduling of the calling thread. */
napi_value sched_idle(napi_env env, napi_callback_info info);

#endif
