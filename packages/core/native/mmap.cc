/*
 * OmenDB's memory-map addon: the one native piece of @omendb/core. Two functions hand file mappings
 * to JavaScript; V8 unmaps each when the last buffer over it (in any thread) is collected.
 *
 *   map(fd, offset, length) -> ArrayBuffer
 *       bytes [offset, offset + length) of the file, mapped read-only and shared (MAP_SHARED,
 *       PROT_READ); offset a multiple of the page size. The range may pass the file's end: pages past
 *       it must not be touched until the file grows over them. The vector file is read through it
 *       (src/storage/vector-pages.ts).
 *
 *   mapPrivate(fd, offset, length, reserve) -> SharedArrayBuffer of `reserve` bytes
 *       bytes [0, length) start as the file's [offset, offset + length), mapped copy-on-write
 *       (MAP_PRIVATE); the rest of the reservation, and the tail of the last file page past `length`,
 *       read as zeros. A page is private memory only once written: until then it is the file's page
 *       in the page cache. Writes never reach the file. offset a multiple of the page size,
 *       0 <= length <= reserve, and the file must hold [offset, offset + length). The graph's
 *       neighbour lists are loaded through it (src/storage/ann-index-file.ts), shared with search
 *       threads like any SharedArrayBuffer.
 *
 *   trim() -> boolean
 *       hands the C library's free heap memory back to the system (glibc's malloc_trim; false
 *       elsewhere, or when there was nothing to return). Opening a large folder frees much more than
 *       it keeps (rows, buffers, a checksum thread's allocations); without it glibc keeps those pages.
 *
 * Errors are thrown as JavaScript Errors with code "OMENDB_MMAP_<errno>" and strerror's message;
 * bad arguments as TypeErrors. Written against V8's API (N-API cannot make a SharedArrayBuffer over
 * external memory), so it is compiled by scripts/build-native.mjs for the Node that runs the build.
 */
#include <node.h>
#include <v8.h>

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

namespace {

using v8::ArrayBuffer;
using v8::BackingStore;
using v8::Context;
using v8::Exception;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::Object;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

void Unmap(void *data, size_t length, void *hint) {
  (void)hint;
  munmap(data, length);
}

void Fail(Isolate *isolate, const char *what, int err) {
  char message[256];
  char code[32];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  snprintf(code, sizeof code, "OMENDB_MMAP_%d", err);
  Local<Context> context = isolate->GetCurrentContext();
  Local<Object> error = Exception::Error(String::NewFromUtf8(isolate, message).ToLocalChecked()).As<Object>();
  error->Set(context, String::NewFromUtf8Literal(isolate, "code"), String::NewFromUtf8(isolate, code).ToLocalChecked()).Check();
  isolate->ThrowException(error);
}

void BadArguments(Isolate *isolate, const char *usage) {
  isolate->ThrowException(Exception::TypeError(String::NewFromUtf8(isolate, usage).ToLocalChecked()));
}

/** Reads info[0..count) as integers (all must be numbers); false when one is not. */
bool Integers(const FunctionCallbackInfo<Value> &info, int count, int64_t *out) {
  if (info.Length() != count) return false;
  Local<Context> context = info.GetIsolate()->GetCurrentContext();
  for (int i = 0; i < count; i++) {
    if (!info[i]->IsNumber() || !info[i]->IntegerValue(context).To(&out[i])) return false;
  }
  return true;
}

void Map(const FunctionCallbackInfo<Value> &info) {
  Isolate *isolate = info.GetIsolate();
  int64_t a[3];
  if (!Integers(info, 3, a) || a[0] < 0 || a[0] > INT32_MAX || a[1] < 0 || a[2] <= 0) {
    return BadArguments(isolate, "map(fd, offset, length): a file descriptor, an offset >= 0 and a positive length");
  }
  size_t length = (size_t)a[2];
  void *data = mmap(nullptr, length, PROT_READ, MAP_SHARED, (int)a[0], (off_t)a[1]);
  if (data == MAP_FAILED) return Fail(isolate, "mmap", errno);
  std::unique_ptr<BackingStore> store = ArrayBuffer::NewBackingStore(data, length, Unmap, nullptr);
  info.GetReturnValue().Set(ArrayBuffer::New(isolate, std::move(store)));
}

void MapPrivate(const FunctionCallbackInfo<Value> &info) {
  Isolate *isolate = info.GetIsolate();
  int64_t a[4];
  if (!Integers(info, 4, a) || a[0] < 0 || a[0] > INT32_MAX || a[1] < 0 || a[2] < 0 || a[3] <= 0 || a[2] > a[3]) {
    return BadArguments(isolate, "mapPrivate(fd, offset, length, reserve): a file descriptor, an offset >= 0, a length >= 0 and a reserve >= length, > 0");
  }
  size_t length = (size_t)a[2];
  size_t reserve = (size_t)a[3];
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  // The reservation is whole pages (munmap of `reserve` bytes unmaps them all), so the file mapping,
  // which covers whole pages too, never reaches past it.
  void *region = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) return Fail(isolate, "mmap (reservation)", errno);
  if (length > 0) {
    void *file = mmap(region, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, (int)a[0], (off_t)a[1]);
    if (file == MAP_FAILED) {
      int err = errno;
      munmap(region, reserve);
      return Fail(isolate, "mmap (file)", err);
    }
    // The last file page may hold bytes past `length` (the next section of the file): zero them, so
    // the buffer past `length` reads as zeros everywhere. This makes that one page private.
    size_t tail = length % page;
    if (tail != 0) memset((char *)region + length, 0, page - tail);
  }
  std::shared_ptr<BackingStore> store = SharedArrayBuffer::NewBackingStore(region, reserve, Unmap, nullptr);
  info.GetReturnValue().Set(SharedArrayBuffer::New(isolate, std::move(store)));
}

void Trim(const FunctionCallbackInfo<Value> &info) {
#ifdef __GLIBC__
  info.GetReturnValue().Set(malloc_trim(0) != 0);
#else
  info.GetReturnValue().Set(false);
#endif
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  (void)module;
  (void)context;
  NODE_SET_METHOD(exports, "map", Map);
  NODE_SET_METHOD(exports, "mapPrivate", MapPrivate);
  NODE_SET_METHOD(exports, "trim", Trim);
}
