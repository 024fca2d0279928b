// A read-only memory map of a whole file (RAII). Model weights are used in place from the map.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tandem {

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);  // throws Error with the path and errno text
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Tells the kernel the whole pages inside [p, p + n) are not needed now (MADV_DONTNEED): they
  // leave this process's resident memory and are read back from the page cache if touched.
  void drop_pages(const uint8_t* p, size_t n) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tandem
