{
  "targets": [
    {
      "target_name": "xyn_native",
      "sources": ["native/addon.c", "native/sha256.c", "native/sched.c"],
      "cflags": ["-O2"]
    }
  ]
}
