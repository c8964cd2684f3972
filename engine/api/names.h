// One name table per enum: the names an enum's values have in configs, logs, JSON and
// messages, written once (EnumNames<E>::table) and used for all of them — parsing a value,
// listing the allowed ones (`metaadamw keys`, error messages) and writing it back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace maw {

// Specialized beside each enum: static constexpr std::pair<E, const char*> table[] = {…}.
template <class E>
struct EnumNames;

template <class E>
const char* name_of(E value) {
  for (const auto& [v, name] : EnumNames<E>::table)
    if (v == value) return name;
  return "?";
}

template <class E>
std::optional<E> enum_from(std::string_view name) {
  for (const auto& [v, n] : EnumNames<E>::table)
    if (name == n) return v;
  return std::nullopt;
}

// "a | b | c": the allowed names, in the table's order.
template <class E>
std::string enum_choices(const char* sep = " | ") {
  std::string out;
  for (const auto& [v, name] : EnumNames<E>::table)
    out += (out.empty() ? "" : sep) + std::string(name);
  return out;
}

}  // namespace maw

// Declares the name table of enum E (inside namespace maw).
#define MAW_ENUM_NAMES(E, ...)                                          \
  template <>                                                           \
  struct EnumNames<E> {                                                 \
    static constexpr std::pair<E, const char*> table[] = {__VA_ARGS__}; \
  }
