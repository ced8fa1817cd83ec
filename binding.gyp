{
  "targets": [
    {
      "target_name": "xyn_native",
      "sources": ["native/sha256.c"],
      "cflags": ["-O2"]
    }
  ]
}
