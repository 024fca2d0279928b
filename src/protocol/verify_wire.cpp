#include "protocol/verify_wire.h"

#include <algorithm>
#include <stdexcept>

#include "protocol/output_constraint.h"
#include "protocol/request_fields.h"
#include "protocol/token_hash.h"

namespace tandem::protocol {

using nlohmann::json;
using namespace request_fields;

namespace {

// "grammar" and "grammar_start": only on the call that opens a session (the session keeps them).
void parse_verify_grammar(const json& body, VerifyRequest& r) {
  auto g = body.find("grammar");
  const bool given = g != body.end() && !g->is_null() && *g != "";
  if (!given) {
    if (body.contains("grammar_start") && !body["grammar_start"].is_null())
      bad("grammar_start", "'grammar_start' needs a 'grammar'");
    return;
  }
  if (!g->is_string()) bad_type("grammar", *g, "a string (GBNF)");
  if (r.session)
    bad("grammar", "'grammar' is sent only by the call that opens a session (without 'session'): the session keeps it");
  r.grammar = gbnf_constraint(g->get<std::string>(), "grammar").grammar;
  r.grammar_start = get_int(body, "grammar_start", 0, 0, INT32_MAX);
}

}  // namespace

VerifyRequest parse_verify_request(const json& body, int32_t n_vocab, int32_t max_draft) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object", "", "invalid_json");
  check_fields(body, {"model", "session", "n_past", "past_hash", "tokens", "draft", "draft_probs", "temperature",
                      "top_k", "top_p", "min_p", "seed", "logprobs", "grammar", "grammar_start"});
  VerifyRequest r;
  r.model = get_string(body, "model");
  if (auto it = body.find("session"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) bad_type("session", *it, "a string");
    r.session = it->get<std::string>();
  }
  r.n_past = get_int(body, "n_past", 0, 0, INT32_MAX);
  if (!r.session && r.n_past != 0) bad("n_past", "a new session holds no tokens: 'n_past' must be 0");
  if (const std::string h = get_string(body, "past_hash"); !h.empty()) {
    if (h.size() != 16 || h.find_first_not_of("0123456789abcdef") != std::string::npos)
      bad("past_hash", "'past_hash' must be 16 lowercase hex digits");
    r.past_hash = std::stoull(h, nullptr, 16);
  }
  auto arr = [&](const char* key) -> std::vector<int32_t> {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return {};
    if (!it->is_array()) bad_type(key, *it, "an array of token ids");
    return token_array(*it, key, n_vocab);
  };
  r.tokens = arr("tokens");
  r.draft = arr("draft");
  if (r.tokens.empty())
    bad("tokens", "'tokens' must hold at least one token the server has not seen (its own last token, at least)",
        "missing_required_parameter");
  if (int64_t(r.draft.size()) > max_draft)
    bad("draft", "at most " + std::to_string(max_draft) + " draft tokens per call, got " + std::to_string(r.draft.size()));
  SamplerParams& sp = r.sampling;
  sp.temperature = float(get_number(body, "temperature", 0.0, 0, 100));
  sp.top_p = float(get_number(body, "top_p", 1.0, 0, 1));
  sp.top_k = int(get_int(body, "top_k", 0, 0, 1 << 20));
  sp.min_p = float(get_number(body, "min_p", 0.0, 0, 1));
  r.seed_given = body.contains("seed") && !body["seed"].is_null();
  r.top_logprobs = int(get_int(body, "logprobs", -1, 0, 20));
  sp.seed = uint64_t(get_int(body, "seed", 0, INT64_MIN, INT64_MAX));

  auto it = body.find("draft_probs");
  const bool has_probs = it != body.end() && !it->is_null();
  if (sp.temperature > 0 && !r.draft.empty()) {
    if (!has_probs)
      bad("draft_probs", "sampling (temperature > 0) needs the draft's probabilities 'draft_probs'",
          "missing_required_parameter");
    if (!it->is_array() || it->size() != r.draft.size())
      bad("draft_probs", "'draft_probs' must be an array with one list per draft token (" +
                             std::to_string(r.draft.size()) + ")");
    for (size_t i = 0; i < r.draft.size(); ++i) {
      const json& list = (*it)[i];
      const std::string p = "draft_probs[" + std::to_string(i) + "]";
      if (!list.is_array() || list.empty() || list.size() > size_t(n_vocab))
        bad(p, "'" + p + "' must be a non-empty array of [token, probability] pairs");
      SparseDist d;
      double sum = 0;
      for (const auto& e : list) {
        if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || !e[1].is_number())
          bad(p, "'" + p + "' must hold [token, probability] pairs");
        const int64_t id = exact_int64(e[0]).value_or(-1);
        const double q = e[1].get<double>();
        if (id < 0 || id >= n_vocab) bad(p, "token id " + e[0].dump() + " is out of range", "invalid_token");
        if (!(q > 0 && q <= 1)) bad(p, "probabilities must be in (0, 1], got " + e[1].dump());
        sum += q;
        d.emplace_back(int32_t(id), float(q));
      }
      if (sum > 1.001) bad(p, "the probabilities of '" + p + "' sum to more than 1");
      std::sort(d.begin(), d.end());
      for (size_t j = 1; j < d.size(); ++j)
        if (d[j].first == d[j - 1].first) bad(p, "token " + std::to_string(d[j].first) + " is listed twice");
      if (prob_of(d, r.draft[i]) <= 0)
        bad(p, "'" + p + "' must give the draft token " + std::to_string(r.draft[i]) + " a probability");
      r.draft_probs.push_back(std::move(d));
    }
  } else if (has_probs && !(it->is_array() && (it->empty() || r.draft.empty() || sp.temperature <= 0))) {
    bad_type("draft_probs", *it, "an array");
  }
  parse_verify_grammar(body, r);
  return r;
}

json verify_answer_json(const VerifyAnswer& a) {
  json answer = {{"session", a.session}, {"accepted", a.accepted},           {"token", a.token},
                 {"n_past", a.n_past},   {"past_hash", hash_hex(a.past_hash)}, {"model", a.model}};
  if (a.logprobs) {
    json lps = json::array();
    for (const auto& t : *a.logprobs) {
      json top = json::array();
      for (const auto& alt : t.top) top.push_back({alt.token, alt.logprob});
      lps.push_back({{"token", t.token}, {"logprob", t.logprob}, {"top", top}});
    }
    answer["logprobs"] = lps;
  }
  return answer;
}

json verify_conflict_json(const ApiError& e, const std::string& session, uint64_t n_past, uint64_t past_hash) {
  json body = error_json(e);
  body["session"] = {{"id", session}, {"n_past", n_past}, {"past_hash", hash_hex(past_hash)}};
  return body;
}

json verify_request_json(const VerifyRequest& r) {
  json j = {{"n_past", r.n_past}, {"tokens", r.tokens}, {"draft", r.draft}};
  if (!r.model.empty()) j["model"] = r.model;
  if (r.session) j["session"] = *r.session;
  if (r.past_hash) j["past_hash"] = hash_hex(*r.past_hash);
  const SamplerParams& sp = r.sampling;
  if (sp.temperature > 0) {
    j["temperature"] = sp.temperature;
    if (sp.top_k > 0) j["top_k"] = sp.top_k;
    if (sp.top_p < 1) j["top_p"] = sp.top_p;
    if (sp.min_p > 0) j["min_p"] = sp.min_p;
    if (!r.draft.empty()) {
      json probs = json::array();
      for (const auto& q : r.draft_probs) {
        json row = json::array();
        for (const auto& [t, p] : q) row.push_back({t, p});
        probs.push_back(std::move(row));
      }
      j["draft_probs"] = std::move(probs);
    }
  }
  if (r.seed_given) j["seed"] = int64_t(sp.seed);  // JSON integers are signed 64-bit there; same bits
  if (r.top_logprobs >= 0) j["logprobs"] = r.top_logprobs;
  if (r.grammar) {
    j["grammar"] = r.grammar->gbnf();
    if (r.grammar_start > 0) j["grammar_start"] = r.grammar_start;
  }
  return j;
}

namespace {

// An integer field, range-checked before it is narrowed (converting a float beyond the range is
// undefined); anything else makes the answer malformed.
int64_t int_field(const json& o, const char* key, int64_t lo = INT32_MIN, int64_t hi = INT32_MAX) {
  const std::optional<int64_t> v = exact_int64(o.at(key));
  if (!v || *v < lo || *v > hi) throw std::invalid_argument(std::string("'") + key + "' is not an integer in range");
  return *v;
}

TokenLogprob read_logprob(const json& e) {
  TokenLogprob t{int32_t(int_field(e, "token", 0)), e.at("logprob").get<float>(), {}};
  for (const auto& a : e.at("top")) {
    const std::optional<int64_t> id = exact_int64(a.at(0));
    if (!id || *id < 0 || *id > INT32_MAX) throw std::invalid_argument("a top token id out of range");
    t.top.push_back({int32_t(*id), a.at(1).get<float>(), {}});
  }
  return t;
}

}  // namespace

VerifyVerdict parse_verify_answer(const json& body) {
  VerifyVerdict v;
  v.session = body.at("session").get<std::string>();
  v.accepted = int32_t(int_field(body, "accepted"));
  v.token = int32_t(int_field(body, "token"));
  v.n_past = int_field(body, "n_past", 0, INT64_MAX);
  v.past_hash = body.at("past_hash").get<std::string>();
  if (auto it = body.find("logprobs"); it != body.end() && it->is_array()) {
    for (const auto& e : *it) v.logprobs.push_back(read_logprob(e));
    if (v.logprobs.size() != size_t(v.accepted) + 1) v.logprobs.clear();  // not ours to guess
  }
  return v;
}

VerifyConflict parse_verify_conflict(const json& body) {
  VerifyConflict c;
  if (!body.is_object()) return c;
  if (auto e = body.find("error"); e != body.end() && e->is_object())
    if (auto code = e->find("code"); code != e->end() && code->is_string()) c.code = code->get<std::string>();
  if (auto s = body.find("session"); s != body.end() && s->is_object()) {
    if (s->contains("n_past")) c.n_past = exact_int64((*s)["n_past"]).value_or(0);
    if (auto h = s->find("past_hash"); h != s->end() && h->is_string()) c.past_hash = h->get<std::string>();
  }
  return c;
}

}  // namespace tandem::protocol
