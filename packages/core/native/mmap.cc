/*
 * OmenDB's memory-map addon: the one native piece of @omendb/core. Two functions hand file mappings
 * to JavaScript (V8 unmaps each when the last buffer over it, in any thread, is collected), one
 * copies scattered records out of such a mapping, one returns freed heap memory to the system.
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
 *   gather(segments, segmentBytes, positions, count, length, target, targetOffset, targetStride)
 *       copies `count` records of `length` bytes out of a file mapped by map() in segments of
 *       `segmentBytes` each (`segments`, an array of those buffers): record j starts at file byte
 *       positions[j] (a Float64Array), in segment floor(p / segmentBytes) at p mod segmentBytes, and
 *       goes to target[targetOffset + j * targetStride] (an ArrayBuffer, e.g. WebAssembly memory).
 *       Every record must lie inside its segment's buffer and every copy inside target (else a
 *       RangeError and nothing is copied). The cache lines of record j + GATHER_AHEAD are prefetched
 *       while record j is copied: scattered records then arrive from memory in parallel, which one
 *       JavaScript copy per record cannot do. A search's re-rank reads its candidates through it
 *       (src/storage/vector-pages.ts): 128 vectors of 6 KiB copied and measured in 62–66 µs
 *       instead of 107–114 µs with one JavaScript copy each (synthetic 1536-d 100k, this machine).
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

#include <vector>

namespace {

using v8::Array;
using v8::ArrayBuffer;
using v8::BackingStore;
using v8::Context;
using v8::Exception;
using v8::Float64Array;
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

/** Reads info[i] as an integer into *out; false when it is not a number. */
bool IntegerAt(const FunctionCallbackInfo<Value> &info, int i, int64_t *out) {
  return info[i]->IsNumber() && info[i]->IntegerValue(info.GetIsolate()->GetCurrentContext()).To(out);
}

/** Reads info[0..count) as integers (all must be numbers); false when one is not. */
bool Integers(const FunctionCallbackInfo<Value> &info, int count, int64_t *out) {
  if (info.Length() != count) return false;
  for (int i = 0; i < count; i++) {
    if (!IntegerAt(info, i, &out[i])) return false;
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

/** Records prefetched ahead of the one being copied by Gather. */
constexpr uint32_t GATHER_AHEAD = 2;
/** Cache-line size assumed by Gather's prefetch. */
constexpr size_t LINE = 64;

void Gather(const FunctionCallbackInfo<Value> &info) {
  Isolate *isolate = info.GetIsolate();
  const char *usage =
      "gather(segments, segmentBytes, positions, count, length, target, targetOffset, targetStride): an array of "
      "mapped buffers, a positive segment size, a Float64Array of file positions, a count within it, a positive "
      "length, an ArrayBuffer and a target offset and stride >= 0";
  int64_t segmentBytes, count, length, targetOffset, targetStride;
  if (info.Length() != 8 || !info[0]->IsArray() || !info[2]->IsFloat64Array() || !info[5]->IsArrayBuffer() ||
      !IntegerAt(info, 1, &segmentBytes) || !IntegerAt(info, 3, &count) || !IntegerAt(info, 4, &length) ||
      !IntegerAt(info, 6, &targetOffset) || !IntegerAt(info, 7, &targetStride) || segmentBytes <= 0 || count < 0 ||
      length <= 0 || targetOffset < 0 || targetStride < 0) {
    return BadArguments(isolate, usage);
  }
  Local<Context> context = isolate->GetCurrentContext();
  Local<Array> segments = info[0].As<Array>();
  Local<Float64Array> positions = info[2].As<Float64Array>();
  Local<ArrayBuffer> target = info[5].As<ArrayBuffer>();
  if ((size_t)count > positions->Length()) return BadArguments(isolate, usage);
  const double *at = reinterpret_cast<const double *>(static_cast<const char *>(positions->Buffer()->Data()) + positions->ByteOffset());
  if (count > 0 && (double)targetOffset + (double)(count - 1) * (double)targetStride + (double)length > (double)target->ByteLength()) {
    isolate->ThrowException(Exception::RangeError(String::NewFromUtf8Literal(isolate, "gather: the copies do not fit in the target")));
    return;
  }
  // Where each record is, checked before anything is copied (segment buffers looked up once each).
  uint32_t mapped = segments->Length();
  std::vector<const char *> base(mapped, nullptr);
  std::vector<size_t> bytes(mapped, 0);
  std::vector<const char *> from((size_t)count);
  for (int64_t j = 0; j < count; j++) {
    double p = at[j];
    bool ok = p >= 0 && p < 9007199254740992.0 && p == (double)(int64_t)p;
    int64_t position = ok ? (int64_t)p : 0;
    int64_t segment = position / segmentBytes;
    ok = ok && segment < (int64_t)mapped;
    if (ok && base[segment] == nullptr) {
      Local<Value> buffer;
      if (segments->Get(context, (uint32_t)segment).ToLocal(&buffer) && buffer->IsArrayBuffer()) {
        base[segment] = static_cast<const char *>(buffer.As<ArrayBuffer>()->Data());
        bytes[segment] = buffer.As<ArrayBuffer>()->ByteLength();
      }
    }
    int64_t offset = position - segment * segmentBytes;
    if (!ok || base[segment] == nullptr || (size_t)(offset + length) > bytes[segment]) {
      char message[160];
      snprintf(message, sizeof message, "gather: record %lld at file byte %.0f is not inside a mapped segment", (long long)j, p);
      isolate->ThrowException(Exception::RangeError(String::NewFromUtf8(isolate, message).ToLocalChecked()));
      return;
    }
    from[j] = base[segment] + offset;
  }
  char *to = static_cast<char *>(target->Data()) + targetOffset;
  for (int64_t j = 0; j < count; j++) {
    if (j + GATHER_AHEAD < count) {
      const char *ahead = from[j + GATHER_AHEAD];
      for (int64_t o = 0; o < length; o += LINE) __builtin_prefetch(ahead + o);
    }
    memcpy(to + j * targetStride, from[j], (size_t)length);
  }
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
  NODE_SET_METHOD(exports, "gather", Gather);
  NODE_SET_METHOD(exports, "trim", Trim);
}
