// Extern::wrap (instance.h): a host function with a typed C++ signature,
// called by generated code as thunk(ctx, args...) with wasm's native calling
// convention. The thunk is instantiated here, in the caller's code, once per
// callable type; the callable lives in the function object, and ctx points
// to a pointer to it (the first word of the runtime's context for the call).
#pragma once

#include <nomos/instance.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>

namespace nomos {
namespace detail {

// Internal to Extern::wrap; not for direct use.
NOMOS_API Extern nativeFunction(FunctionType type, void *entry,
                                std::shared_ptr<void> env);
// Records the trap a wrapped function raises (an Error that is not a trap
// becomes a HostError, as with the callback forms), then unwinds to the
// call from the host. raiseHostTrap skips the destructors of the frames it
// unwinds: the thunk calls it only once its own objects are gone. `frame`
// is the thunk's own frame, whose caller is the guest: the trap's backtrace
// starts there, whether or not the embedder keeps frame pointers.
NOMOS_API void setHostTrap(Error error);
[[noreturn]] NOMOS_API void raiseHostTrap(const void *frame);

template <class T> constexpr ValueType wasmTypeOf() {
  if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t>)
    return ValueType::I32;
  else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>)
    return ValueType::I64;
  else if constexpr (std::is_same_v<T, float>)
    return ValueType::F32;
  else {
    static_assert(std::is_same_v<T, double>,
                  "a wrapped host function takes and returns only int32_t, "
                  "uint32_t, int64_t, uint64_t, float or double");
    return ValueType::F64;
  }
}

// R, or T for R = Expected<T>.
template <class R> struct HostResult {
  using Type = R;
  static constexpr bool kExpected = false;
};
template <class T> struct HostResult<Expected<T>> {
  using Type = T;
  static constexpr bool kExpected = true;
};

// What generated code calls: ctx points to a pointer to the callable.
template <class F, class R, class... A>
typename HostResult<R>::Type wrappedThunk(void *ctx, A... args) {
  using T = typename HostResult<R>::Type;
  std::conditional_t<std::is_void_v<T>, char, T> value{};
  bool trapped = false;
  try {
    F &fn = **static_cast<F **>(ctx);
    if constexpr (HostResult<R>::kExpected) {
      R result = fn(args...);
      if (!result) {
        setHostTrap(std::move(result.error()));
        trapped = true;
      } else if constexpr (!std::is_void_v<T>) {
        value = *result;
      }
    } else if constexpr (std::is_void_v<T>) {
      fn(args...);
    } else {
      value = fn(args...);
    }
  } catch (const std::exception &e) {
    setHostTrap(Error{ErrorKind::HostError,
                      std::string("host function threw: ") + e.what(), {}});
    trapped = true;
  } catch (...) {
    setHostTrap(Error{ErrorKind::HostError, "host function threw", {}});
    trapped = true;
  }
  if (trapped)
    raiseHostTrap(__builtin_frame_address(0));
  if constexpr (!std::is_void_v<T>)
    return value;
}

// The signature of a callable: a lambda (mutable or not), a function object
// or a function pointer.
template <class F> struct Signature : Signature<decltype(&F::operator())> {};
template <class R, class... A> struct Signature<R (*)(A...)> {
  static FunctionType type() {
    using T = typename HostResult<R>::Type;
    FunctionType type{{wasmTypeOf<A>()...}, {}};
    if constexpr (!std::is_void_v<T>)
      type.results.push_back(wasmTypeOf<T>());
    return type;
  }
  // The thunk generated code calls for a callable of type F.
  template <class F> static void *thunk() {
    return reinterpret_cast<void *>(&wrappedThunk<F, R, A...>);
  }
};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...) const> : Signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct Signature<R (C::*)(A...)> : Signature<R (*)(A...)> {};

} // namespace detail

template <class F> Extern Extern::wrap(F fn) {
  using Callable = std::decay_t<F>;
  using Signature = detail::Signature<Callable>;
  return detail::nativeFunction(Signature::type(),
                                Signature::template thunk<Callable>(),
                                std::make_shared<Callable>(std::move(fn)));
}

} // namespace nomos
