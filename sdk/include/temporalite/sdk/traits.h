// Function signature helpers for typed registration (internal).
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "temporalite/sdk/payload.h"

namespace temporalite::sdk::internal {

template <class F>
struct FnTraits : FnTraits<decltype(&std::decay_t<F>::operator())> {};
template <class R, class... A>
struct FnTraits<R (*)(A...)> {
  using Ret = R;
  using RawArgs = std::tuple<A...>;
  using Args = std::tuple<std::decay_t<A>...>;
  static constexpr std::size_t kArity = sizeof...(A);
};
template <class R, class... A>
struct FnTraits<R(A...)> : FnTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FnTraits<R (C::*)(A...) const> : FnTraits<R (*)(A...)> {};
template <class C, class R, class... A>
struct FnTraits<R (C::*)(A...)> : FnTraits<R (*)(A...)> {};

template <class T>
struct TupleTail;
template <class H, class... T>
struct TupleTail<std::tuple<H, T...>> {
  using type = std::tuple<T...>;
};

// Decodes payload i into element i of Tuple.
template <class Tuple>
Tuple DecodeArgs(const Payloads& ps) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return Tuple{PayloadArg<std::tuple_element_t<I, Tuple>>(ps, static_cast<int>(I))...};
  }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

// Encodes a result: void -> no payload.
template <class R, class F>
Payloads EncodeResult(F&& f) {
  if constexpr (std::is_void_v<R>) {
    f();
    return {};
  } else {
    return ToPayloads(f());
  }
}

}  // namespace temporalite::sdk::internal
