/* xyn's native addon: registers the functions of sha256.c and sched.c. */
#include <node_api.h>
#include "xyn_native.h"

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  export_fn(env, exports, "sha256Into", sha256_into);
  export_fn(env, exports, "perfectRoots", perfect_roots);
  export_fn(env, exports, "shardDone", shard_done);
  export_fn(env, exports, "schedIdle", sched_idle);
  return exports;
}
