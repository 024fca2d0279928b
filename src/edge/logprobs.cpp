#include "edge/logprobs.h"

#include <algorithm>

#include "protocol/openai.h"

namespace tandem::edge {

using nlohmann::json;

using protocol::bytes_of;

std::vector<TokenProb> token_probs_from_json(const json& lp) {
  std::vector<TokenProb> out;
  if (!lp.is_object()) return out;
  const auto content = lp.find("content");
  if (content != lp.end() && content->is_array()) {
    for (const auto& e : *content) {
      if (!e.is_object() || !e.contains("token") || !e["token"].is_string() || !e.contains("logprob") ||
          !e["logprob"].is_number())
        continue;
      TokenProb t{e["token"].get<std::string>(), e["logprob"].get<double>(), {}};
      if (e.contains("top_logprobs") && e["top_logprobs"].is_array())
        for (const auto& a : e["top_logprobs"])
          if (a.is_object() && a.contains("token") && a["token"].is_string() && a.contains("logprob") &&
              a["logprob"].is_number())
            t.top.emplace_back(a["token"].get<std::string>(), a["logprob"].get<double>());
      out.push_back(std::move(t));
    }
    return out;
  }
  const auto tokens = lp.find("tokens"), lps = lp.find("token_logprobs"), tops = lp.find("top_logprobs");
  if (tokens == lp.end() || lps == lp.end() || !tokens->is_array() || !lps->is_array()) return out;
  for (size_t i = 0; i < tokens->size() && i < lps->size(); ++i) {
    if (!(*tokens)[i].is_string() || !(*lps)[i].is_number()) continue;
    TokenProb t{(*tokens)[i].get<std::string>(), (*lps)[i].get<double>(), {}};
    if (tops != lp.end() && tops->is_array() && i < tops->size() && (*tops)[i].is_object())
      for (const auto& [k, v] : (*tops)[i].items())
        if (v.is_number()) t.top.emplace_back(k, v.get<double>());
    // A completions object's alternatives are a map: put them back in order of likelihood.
    std::stable_sort(t.top.begin(), t.top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<TokenProb> token_probs(std::span<const protocol::TokenLogprob> toks, const Vocab& vocab) {
  std::vector<TokenProb> out;
  out.reserve(toks.size());
  for (const auto& t : toks) {
    TokenProb p{vocab.token_to_piece(t.token), double(t.logprob), {}};
    for (const auto& [id, lp] : t.top) p.top.emplace_back(vocab.token_to_piece(id), double(lp));
    out.push_back(std::move(p));
  }
  return out;
}

json chat_logprobs(const std::vector<TokenProb>& toks) {
  json content = json::array();
  for (const auto& t : toks) {
    json alts = json::array();
    for (const auto& [tok, lp] : t.top) alts.push_back({{"token", tok}, {"logprob", lp}, {"bytes", bytes_of(tok)}});
    content.push_back({{"token", t.token}, {"logprob", t.logprob}, {"bytes", bytes_of(t.token)}, {"top_logprobs", alts}});
  }
  return json{{"content", content}};
}

json completion_logprobs(const std::vector<TokenProb>& toks, size_t text_offset) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
  for (const auto& t : toks) {
    tokens.push_back(t.token);
    lps.push_back(t.logprob);
    json alt = json::object();
    for (const auto& [tok, lp] : t.top) alt[tok] = lp;
    tops.push_back(alt);
    offs.push_back(text_offset);
    text_offset += t.token.size();
  }
  return json{{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

}  // namespace tandem::edge
