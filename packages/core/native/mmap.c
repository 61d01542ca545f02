/*
 * OmenDB's memory-map addon: the one native piece of @omendb/core. It maps a file read-only and
 * shared (MAP_SHARED, PROT_READ) and hands the mapping to JavaScript as an external ArrayBuffer,
 * unmapped when that buffer is garbage-collected. The vector file is read through it
 * (src/storage/vector-pages.ts); where it cannot be built or loaded, positional reads serve instead.
 *
 *   map(fd, offset, length) -> ArrayBuffer   bytes [offset, offset + length) of the file; offset a
 *                                    multiple of the page size; the range may pass the file's end:
 *                                    pages past it must not be touched until the file grows over them
 *
 * Errors are thrown as JavaScript Errors with code "OMENDB_MMAP_<errno>" and strerror's message.
 */
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static void unmap_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value fail(napi_env env, const char *what, int err) {
  char code[32];
  char message[256];
  snprintf(code, sizeof code, "OMENDB_MMAP_%d", err);
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_value map_file(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd;
  int64_t offset;
  int64_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &offset) != napi_ok ||
      napi_get_value_int64(env, argv[2], &length) != napi_ok || fd < 0 || offset < 0 || length <= 0) {
    napi_throw_type_error(env, NULL, "map(fd, offset, length): a file descriptor, an offset >= 0 and a positive length");
    return NULL;
  }
  void *data = mmap(NULL, (size_t)length, PROT_READ, MAP_SHARED, fd, (off_t)offset);
  if (data == MAP_FAILED) return fail(env, "mmap", errno);
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, data, (size_t)length, unmap_buffer,
                                       (void *)(uintptr_t)length, &buffer) != napi_ok) {
    munmap(data, (size_t)length);
    napi_throw_error(env, "OMENDB_MMAP_BUFFER", "could not wrap the mapping in an ArrayBuffer");
    return NULL;
  }
  return buffer;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "map", NAPI_AUTO_LENGTH, map_file, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "map", fn) != napi_ok) return NULL;
  return exports;
}
