// Load-time conversion of the quantized matrices that decode faster interleaved
// (kernels/interleaved.h). Reading each weight once here also brings the mapped file into memory
// before the first token, with progress; the mapped pages of a converted matrix are then released,
// so resident memory holds each weight once.
#include <algorithm>
#include <set>

#include "model/llama_model.h"

namespace tandem {

void LlamaModel::interleave_weights(const std::function<void(float)>& progress) {
  std::vector<WeightMatrix*> ms;
  if (output_.data) ms.push_back(&output_);
  for (auto& L : layers_)
    for (WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) ms.push_back(m);

  const size_t total = std::max<size_t>(total_weight_bytes(), 1);
  size_t done = 0, next_report = 0;
  auto advance = [&](size_t bytes) {
    done += bytes;
    if (progress && done >= next_report) {
      progress(float(std::min(1.0, double(done) / double(total))));
      next_report = done + total / 50;
    }
  };
  if (progress) progress(0.f);

  std::set<const uint8_t*> converted;  // file offsets of the matrices now held interleaved
  for (WeightMatrix* m : ms) {
    const size_t k = size_t(m->cols), rows = size_t(m->rows);
    const kernels::WeightLayout l = kernels::preferred_layout(m->type, k, rows);
    if (l == kernels::WeightLayout::Rows) continue;
    const size_t g = kernels::layout_group_rows(l), groups = (rows + g - 1) / g;
    auto buf = std::unique_ptr<uint8_t[]>(new uint8_t[kernels::layout_bytes(l, k, rows)]);
    // In steps of about 4 MiB, for progress.
    const size_t step = std::max<size_t>(1, (size_t(4) << 20) / std::max<size_t>(1, m->row_bytes * g));
    for (size_t g0 = 0; g0 < groups; g0 += step) {
      const size_t g1 = std::min(groups, g0 + step);
      kernels::interleave_groups(l, m->data, k, rows, g0, g1, buf.get());
      advance(std::min(rows, g1 * g) * m->row_bytes - std::min(rows, g0 * g) * m->row_bytes);
    }
    file_.drop_pages(m->data, m->bytes());
    converted.insert(m->data);
    m->data = buf.get();
    m->layout = l;
    interleaved_.push_back(std::move(buf));
  }

  if (progress) {
    // Fault in what stays mapped (embeddings, row-layout matrices), so that the first tokens
    // do not pay for it.
    volatile uint8_t sink = 0;
    for (const auto& t : file_.tensors()) {
      if (converted.count(t.data)) continue;
      for (size_t off = 0; off < t.nbytes; off += 4096) sink = sink + t.data[off];
      advance(t.nbytes);
    }
    progress(1.f);
  }
}

}  // namespace tandem
