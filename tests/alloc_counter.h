// Counts heap allocations (all threads) while an AllocCounter is alive: the tests that check
// that decoding and sampling allocate nothing use it. The counting operator new is in
// alloc_counter.cpp, linked once into the test binary.
#pragma once
#include <cstddef>

namespace tandem::test {

void start_counting_allocations();
size_t stop_counting_allocations();  // allocations since start

struct AllocCounter {
  AllocCounter() { start_counting_allocations(); }
  ~AllocCounter() { stop_counting_allocations(); }
  size_t count() const;
};

}  // namespace tandem::test
