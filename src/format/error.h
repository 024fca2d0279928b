// The one exception type of the library: a message meant for the user, naming what is wrong.
#pragma once
#include <stdexcept>
#include <string>

namespace tandem {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace tandem
