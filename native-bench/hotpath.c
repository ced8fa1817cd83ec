/*
 * hotpath.c - the HXO engine's hot path for a `compute.hash` plan, in C.
 *
 * This is the performance ceiling the TypeScript engine is compared against.
 * For every shard k of a plan of N shards (per_shard P, rounds R) it:
 *
 *   1. builds the shard's canonical msgpack
 *        {executor:'hash', input:{end,start}, kind:'compute.hash'}
 *      and takes cas_id = first 16 hex chars of its sha256;
 *   2. runs the `hash` executor: h = sha256(canonical({end,start})), then
 *      R-1 more rounds of h = sha256(h) over the 32 raw bytes;
 *   3. output = {digest: hex(h)}, output_digest = sha256(canonical(output));
 *   4. writes one LMDB checkpoint (key = 8-byte big-endian shard index,
 *      value = cas_id[16] | phase byte 2 (done) | output_digest[32]) into the
 *      named DB "checkpoints", committing a durable transaction every B shards;
 *   5. keeps the RFC 9162 leaf hash sha256(0x00 | cas_id | output_digest).
 *
 * Then it computes the RFC 9162 §2.1.1 merkle root over all leaves and prints
 * one JSON line with the timings and the root.
 *
 * The canonical msgpack is exactly what msgpackr produces with
 * {useRecords:false, moreTypes:false, mapsAsObjects:true} over key-sorted
 * objects: maps always as map16 (0xde + u16 BE count), short strings as fixstr
 * or str8, non-negative integers in the smallest of fixint/uint8/uint16/uint32.
 *
 * SHA-256 choice: measured on this machine for 30-60 byte inputs, OpenSSL 3's
 * one-shot SHA256() costs ~450-800 ns per call (it fetches the algorithm every
 * time), EVP_Digest() with a pre-fetched EVP_MD ~170-300 ns, and a reused
 * EVP_MD_CTX re-initialised with EVP_DigestInit_ex2() on a pre-fetched EVP_MD
 * ~110-230 ns. We use the latter. (The deprecated low-level SHA256_Init/
 * Update/Final is faster still, ~70 ns, but is deprecated in OpenSSL 3.)
 *
 * Usage: hotpath --shards N [--per-shard P] [--rounds R] [--batch B] --dir DIR
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>
#include <openssl/evp.h>

#define CAS_ID_LEN 16   /* hex chars of the cas_id */
#define DIGEST_LEN 32   /* raw sha256 */
#define PHASE_DONE 2
#define VALUE_LEN (CAS_ID_LEN + 1 + DIGEST_LEN)
#define MAP_SIZE ((size_t)4 << 30) /* 4 GiB */

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

static void usage_error(const char *fmt, ...) {
  va_list ap;
  fputs("hotpath: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (usage: hotpath --shards N [--per-shard P] [--rounds R] [--batch B] --dir DIR)\n", stderr);
  exit(2);
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "hotpath: %s: %s\n", what, detail);
  exit(1);
}

static void check_mdb(int rc, const char *what) {
  if (rc != MDB_SUCCESS) die(what, mdb_strerror(rc));
}

/* ------------------------------------------------------------------------ */
/* SHA-256 via a reused EVP context                                          */
/* ------------------------------------------------------------------------ */

static EVP_MD *g_md;
static EVP_MD_CTX *g_ctx;

static void sha_init(void) {
  g_md = EVP_MD_fetch(NULL, "SHA256", NULL);
  g_ctx = EVP_MD_CTX_new();
  if (g_md == NULL || g_ctx == NULL) die("openssl", "cannot fetch SHA256");
}

/* out = sha256(a || b); b may be NULL. */
static inline void sha256_2(const void *a, size_t alen, const void *b, size_t blen,
                            unsigned char out[DIGEST_LEN]) {
  if (!EVP_DigestInit_ex2(g_ctx, g_md, NULL) || !EVP_DigestUpdate(g_ctx, a, alen) ||
      (b != NULL && !EVP_DigestUpdate(g_ctx, b, blen)) || !EVP_DigestFinal_ex(g_ctx, out, NULL))
    die("openssl", "sha256 failed");
}

static inline void sha256(const void *data, size_t len, unsigned char out[DIGEST_LEN]) {
  sha256_2(data, len, NULL, 0, out);
}

static const char HEX[] = "0123456789abcdef";

static inline void to_hex(const unsigned char *in, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = HEX[in[i] >> 4];
    out[2 * i + 1] = HEX[in[i] & 15];
  }
}

/* ------------------------------------------------------------------------ */
/* Canonical msgpack writers (the msgpackr subset we need)                   */
/* ------------------------------------------------------------------------ */

static inline unsigned char *mp_map16(unsigned char *p, uint16_t count) {
  *p++ = 0xde;
  *p++ = (unsigned char)(count >> 8);
  *p++ = (unsigned char)count;
  return p;
}

/* Strings up to 255 bytes: fixstr for <= 31, str8 otherwise. */
static inline unsigned char *mp_str(unsigned char *p, const char *s, size_t len) {
  if (len <= 31) {
    *p++ = (unsigned char)(0xa0 | len);
  } else {
    *p++ = 0xd9;
    *p++ = (unsigned char)len;
  }
  memcpy(p, s, len);
  return p + len;
}

#define MP_LIT(p, s) mp_str((p), (s), sizeof(s) - 1)

/* Non-negative integers < 2^32 (larger ones are rejected at argument parsing). */
static inline unsigned char *mp_uint(unsigned char *p, uint32_t v) {
  if (v < 128) {
    *p++ = (unsigned char)v;
  } else if (v < 256) {
    *p++ = 0xcc;
    *p++ = (unsigned char)v;
  } else if (v < 65536) {
    *p++ = 0xcd;
    *p++ = (unsigned char)(v >> 8);
    *p++ = (unsigned char)v;
  } else {
    *p++ = 0xce;
    *p++ = (unsigned char)(v >> 24);
    *p++ = (unsigned char)(v >> 16);
    *p++ = (unsigned char)(v >> 8);
    *p++ = (unsigned char)v;
  }
  return p;
}

/* ------------------------------------------------------------------------ */
/* One shard                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Computes cas_id and output_digest for the shard with range [start, end).
 * The canonical input {end,start} is a contiguous slice of the canonical task
 * {executor,input,kind}, so the executor hashes that slice directly.
 */
static void run_shard(uint32_t start, uint32_t end, uint64_t rounds, char cas_id[CAS_ID_LEN],
                      unsigned char output_digest[DIGEST_LEN]) {
  unsigned char task[64];
  unsigned char *p = mp_map16(task, 3);
  p = MP_LIT(p, "executor");
  p = MP_LIT(p, "hash");
  p = MP_LIT(p, "input");
  unsigned char *input = p;
  p = mp_map16(p, 2);
  p = MP_LIT(p, "end");
  p = mp_uint(p, end);
  p = MP_LIT(p, "start");
  p = mp_uint(p, start);
  size_t input_len = (size_t)(p - input);
  p = MP_LIT(p, "kind");
  p = MP_LIT(p, "compute.hash");

  unsigned char h[DIGEST_LEN];
  char hex[2 * DIGEST_LEN];

  /* cas_id: first 16 hex chars of sha256(canonical task). */
  sha256(task, (size_t)(p - task), h);
  to_hex(h, CAS_ID_LEN / 2, cas_id);

  /* Executor `hash`: sha256(canonical input), then rounds-1 re-hashes. */
  sha256(input, input_len, h);
  for (uint64_t r = 1; r < rounds; r++) sha256(h, DIGEST_LEN, h);

  /* output = {digest: hex(h)}: de0001 a6 "digest" d9 40 <64 hex chars>. */
  unsigned char out[3 + 7 + 2 + 2 * DIGEST_LEN];
  p = mp_map16(out, 1);
  p = MP_LIT(p, "digest");
  to_hex(h, DIGEST_LEN, hex);
  p = mp_str(p, hex, sizeof hex);
  sha256(out, (size_t)(p - out), output_digest);
}

/* ------------------------------------------------------------------------ */
/* Merkle root (RFC 9162 §2.1.1)                                             */
/* ------------------------------------------------------------------------ */

/*
 * Bottom-up, in place over the leaf hashes: pair neighbours level by level and
 * carry an odd last node up unchanged. This builds exactly the MTH tree (left
 * subtree = largest power of two < n), since every level's split points are
 * powers of two. Destroys `nodes`.
 */
static void merkle_root(unsigned char (*nodes)[DIGEST_LEN], size_t n, unsigned char root[DIGEST_LEN]) {
  if (n == 0) {
    sha256("", 0, root);
    return;
  }
  unsigned char buf[1 + 2 * DIGEST_LEN];
  buf[0] = 0x01;
  while (n > 1) {
    size_t half = n / 2;
    for (size_t i = 0; i < half; i++) {
      memcpy(buf + 1, nodes[2 * i], 2 * DIGEST_LEN); /* left || right, adjacent */
      sha256(buf, sizeof buf, nodes[i]);
    }
    if (n & 1) memcpy(nodes[half], nodes[n - 1], DIGEST_LEN);
    n = half + (n & 1);
  }
  memcpy(root, nodes[0], DIGEST_LEN);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */
/* ------------------------------------------------------------------------ */

static uint64_t parse_count(const char *flag, const char *s, uint64_t min) {
  if (s == NULL) usage_error("%s needs a value", flag);
  if (*s < '0' || *s > '9') usage_error("%s: not a non-negative integer: '%s'", flag, s);
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0') usage_error("%s: not a non-negative integer: '%s'", flag, s);
  if (v < min) usage_error("%s must be >= %" PRIu64, flag, min);
  return (uint64_t)v;
}

/* mkdir -p */
static void make_dirs(const char *dir) {
  char path[PATH_MAX];
  size_t len = strlen(dir);
  if (len == 0 || len >= sizeof path) usage_error("--dir: bad path");
  memcpy(path, dir, len + 1);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0775) != 0 && errno != EEXIST) die(path, strerror(errno));
    *p = '/';
  }
  if (mkdir(path, 0775) != 0 && errno != EEXIST) die(path, strerror(errno));
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  uint64_t shards = 0, per_shard = 1, rounds = 1, batch = 10000;
  int have_shards = 0;
  const char *dir = NULL;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--shards") == 0) shards = parse_count(a, v, 0), have_shards = 1;
    else if (strcmp(a, "--per-shard") == 0) per_shard = parse_count(a, v, 1);
    else if (strcmp(a, "--rounds") == 0) rounds = parse_count(a, v, 1);
    else if (strcmp(a, "--batch") == 0) batch = parse_count(a, v, 1);
    else if (strcmp(a, "--dir") == 0) {
      if (v == NULL || *v == '\0') usage_error("--dir needs a value");
      dir = v;
    } else usage_error("unknown argument '%s'", a);
    i++;
  }
  if (!have_shards) usage_error("--shards is required");
  if (dir == NULL) usage_error("--dir is required");
  /* Range bounds are encoded as msgpack uint32 at most (msgpackr would switch
     to float64 beyond), so the whole range must stay below 2^32. */
  if (shards != 0 && per_shard > UINT32_MAX / shards)
    usage_error("shards * per-shard must be < 2^32");
  uint64_t total = shards * per_shard;

  sha_init();
  unsigned char (*leaves)[DIGEST_LEN] = malloc((shards ? shards : 1) * DIGEST_LEN);
  if (leaves == NULL) die("malloc", "out of memory for leaf hashes");
  make_dirs(dir);

  double t0 = now_s();

  /* LMDB environment: a directory (not MDB_NOSUBDIR), default (durable) sync. */
  MDB_env *env;
  MDB_dbi dbi;
  MDB_txn *txn;
  check_mdb(mdb_env_create(&env), "mdb_env_create");
  check_mdb(mdb_env_set_maxdbs(env, 4), "mdb_env_set_maxdbs");
  check_mdb(mdb_env_set_mapsize(env, MAP_SIZE), "mdb_env_set_mapsize");
  check_mdb(mdb_env_open(env, dir, 0, 0664), "mdb_env_open");
  check_mdb(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
  check_mdb(mdb_dbi_open(txn, "checkpoints", MDB_CREATE, &dbi), "mdb_dbi_open");
  check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");

  double t1 = now_s();

  /* Execute + checkpoint, B shards per durable transaction. */
  unsigned char key[8];
  unsigned char value[VALUE_LEN];
  unsigned char leaf_in[1 + CAS_ID_LEN + DIGEST_LEN];
  leaf_in[0] = 0x00;
  value[CAS_ID_LEN] = PHASE_DONE;
  MDB_val k = {sizeof key, key}, v = {sizeof value, value};

  for (uint64_t first = 0; first < shards; first += batch) {
    uint64_t last = first + batch < shards ? first + batch : shards;
    check_mdb(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
    for (uint64_t s = first; s < last; s++) {
      uint32_t start = (uint32_t)(s * per_shard);
      uint64_t e = (s + 1) * per_shard;
      uint32_t end = (uint32_t)(e < total ? e : total);

      char *cas_id = (char *)value;
      unsigned char *output_digest = value + CAS_ID_LEN + 1;
      run_shard(start, end, rounds, cas_id, output_digest);

      for (int b = 0; b < 8; b++) key[b] = (unsigned char)(s >> (56 - 8 * b));
      check_mdb(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");

      /* Leaf hash = sha256(0x00 || cas_id || output_digest). */
      memcpy(leaf_in + 1, cas_id, CAS_ID_LEN);
      memcpy(leaf_in + 1 + CAS_ID_LEN, output_digest, DIGEST_LEN);
      sha256(leaf_in, sizeof leaf_in, leaves[s]);
    }
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }

  double t2 = now_s();

  unsigned char root[DIGEST_LEN];
  char root_hex[2 * DIGEST_LEN + 1];
  merkle_root(leaves, (size_t)shards, root);
  to_hex(root, DIGEST_LEN, root_hex);
  root_hex[2 * DIGEST_LEN] = '\0';

  double t3 = now_s();

  mdb_dbi_close(env, dbi);
  mdb_env_close(env);
  free(leaves);
  EVP_MD_CTX_free(g_ctx);
  EVP_MD_free(g_md);

  /* seconds covers env open + execute/checkpoint + merkle; env close is excluded. */
  double seconds = t3 - t0;
  printf("{\"shards\":%" PRIu64 ",\"seconds\":%.6f,\"shards_per_s\":%.1f,\"merkle_root\":\"%s\","
         "\"phases\":{\"execute_checkpoint_s\":%.6f,\"merkle_s\":%.6f}}\n",
         shards, seconds, seconds > 0 ? (double)shards / seconds : 0.0, root_hex, t2 - t1, t3 - t2);
  return 0;
}
