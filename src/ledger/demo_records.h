// A scripted, seeded mix of synthetic Records for demos and tests of `tandem report` before the
// gateway has served anything. Every one is marked as synthetic: its app starts with "demo-",
// its endpoint is "demo-cloud" and its first reason is "synthetic demo record", so a report of
// them can never be mistaken for measurements.
#pragma once
#include <cstdint>
#include <vector>

#include "ledger/record.h"

namespace tandem::ledger {

struct DemoPrices {  // USD per 1M tokens of the made-up cloud endpoint; the device costs nothing
  double prompt = 0.50, completion = 1.50;
};

// n records spread evenly over [end_ms - span_ms, end_ms), the same for the same seed.
std::vector<Record> demo_records(int n, int64_t end_ms, int64_t span_ms, uint64_t seed = 1, DemoPrices prices = {});

}  // namespace tandem::ledger
