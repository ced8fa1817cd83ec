/*
 * xyn's native SHA-256: the hot path of every shard hashes 4 short messages,
 * and node:crypto spends ~1 µs per call on argument handling and result
 * allocation around ~0.1 µs of hashing. These functions write into buffers
 * the caller owns (no allocation) and hash whole Merkle blocks in one call.
 * They use the OpenSSL that Node itself links (its headers ship with Node).
 * src/kernel/sha256.ts (sha256Into) and src/hxo/leaf-hash.ts (perfectRoots,
 * shardDone) bind them; their callers fall back to node:crypto when this
 * addon is not built.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/sha.h>
#include <string.h>
#include "xyn_native.h"

static int bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t length, offset;
  napi_value buffer;
  void *base;
  if (napi_get_typedarray_info(env, v, &type, &length, &base, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return 0;
  }
  *data = base;
  *len = length;
  return 1;
}

static int u32_of(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an unsigned integer");
    return 0;
  }
  return 1;
}

/* sha256Into(data, out, outOffset): out[outOffset .. +32) = sha256(data). */
napi_value sha256_into(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  uint8_t *data, *out;
  size_t len, out_len;
  uint32_t at;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || !bytes_of(env, argv[0], &data, &len) || !bytes_of(env, argv[1], &out, &out_len) || !u32_of(env, argv[2], &at)) return NULL;
  if ((size_t)at + 32 > out_len) {
    napi_throw_range_error(env, NULL, "output offset leaves fewer than 32 bytes");
    return NULL;
  }
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, len);
  SHA256_Final(out + at, &ctx);
  return NULL;
}

/*
 * perfectRoots(leaves, from, to, size, out): for each block b in [from, to),
 * the RFC 9162 root of the `size` leaves (a power of two) starting at leaf
 * b*size, written at out[(b - from)*32]. A perfect tree: hash level by level.
 */
napi_value perfect_roots(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  uint8_t *leaves, *out;
  size_t leaves_len, out_len;
  uint32_t from, to, size;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || !bytes_of(env, argv[0], &leaves, &leaves_len) || !u32_of(env, argv[1], &from) || !u32_of(env, argv[2], &to) ||
      !u32_of(env, argv[3], &size) || !bytes_of(env, argv[4], &out, &out_len)) return NULL;
  if (size == 0 || (size & (size - 1)) != 0 || to < from || (size_t)to * size * 32 > leaves_len || (size_t)(to - from) * 32 > out_len) {
    napi_throw_range_error(env, NULL, "blocks out of range, or block size not a power of two");
    return NULL;
  }
  uint8_t scratch[65];
  uint8_t level[32 * 1024];
  if (size > 1024) {
    napi_throw_range_error(env, NULL, "block size above 1024");
    return NULL;
  }
  for (uint32_t b = from; b < to; b++) {
    const uint8_t *src = leaves + (size_t)b * size * 32;
    uint32_t n = size;
    /* First level reads the leaves, the next ones hash in place. */
    const uint8_t *in = src;
    while (n > 1) {
      for (uint32_t i = 0; i < n / 2; i++) {
        scratch[0] = 0x01;
        memcpy(scratch + 1, in + (size_t)i * 64, 64);
        SHA256_CTX ctx;
        SHA256_Init(&ctx);
        SHA256_Update(&ctx, scratch, 65);
        SHA256_Final(level + (size_t)i * 32, &ctx);
      }
      in = level;
      n /= 2;
    }
    memcpy(out + (size_t)(b - from) * 32, size == 1 ? src : level, 32);
  }
  return NULL;
}

/*
 * shardDone(output, addresses, checkpoint, digests, leaves, j): the hashing
 * and the byte layout of done shard j of a batch in one call (src/hxo/
 * checkpoint-records.ts holds the layout and the same steps in JS):
 *   address = addresses[16j..16j+16)          -> checkpoint[8..24)  (raw: its first 8 bytes are the cas_id's)
 *   digest  = sha256(output)                  -> digests[32j..], checkpoint[24..56)
 *   leaf    = sha256(0x00 || hex(address[0..8)) || digest) -> leaves[32j..], checkpoint[56..88)
 *   output                                    -> checkpoint[88..)
 * checkpoint[0..8) (phase, flags, attempts, ms) is the caller's to write.
 */
#define DONE_TAIL 88
napi_value shard_done(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  uint8_t *output, *addresses, *cp, *digests, *leaves;
  size_t output_len, addresses_len, cp_len, digests_len, leaves_len;
  uint32_t j;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6 || !bytes_of(env, argv[0], &output, &output_len) || !bytes_of(env, argv[1], &addresses, &addresses_len) ||
      !bytes_of(env, argv[2], &cp, &cp_len) || !bytes_of(env, argv[3], &digests, &digests_len) ||
      !bytes_of(env, argv[4], &leaves, &leaves_len) || !u32_of(env, argv[5], &j)) return NULL;
  if (((size_t)j + 1) * 16 > addresses_len || cp_len != DONE_TAIL + output_len || ((size_t)j + 1) * 32 > digests_len || ((size_t)j + 1) * 32 > leaves_len) {
    napi_throw_range_error(env, NULL, "shardDone: buffers of the wrong size");
    return NULL;
  }
  static const char hex[] = "0123456789abcdef";
  uint8_t *digest = cp + 24, *leaf = cp + 56;
  const uint8_t *address = addresses + (size_t)j * 16;
  memcpy(cp + 8, address, 16);
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, output, output_len);
  SHA256_Final(digest, &ctx);
  uint8_t leaf_data[1 + 16];
  leaf_data[0] = 0x00;
  for (int i = 0; i < 8; i++) {
    leaf_data[1 + 2 * i] = hex[address[i] >> 4];
    leaf_data[2 + 2 * i] = hex[address[i] & 15];
  }
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, leaf_data, sizeof leaf_data);
  SHA256_Update(&ctx, digest, 32);
  SHA256_Final(leaf, &ctx);
  memcpy(cp + DONE_TAIL, output, output_len);
  memcpy(digests + (size_t)j * 32, digest, 32);
  memcpy(leaves + (size_t)j * 32, leaf, 32);
  return NULL;
}
