// What shape a generation's output must have: free text, or the sentences of a grammar. Requests
// say so in three ways — OpenAI's `response_format` (json_object, json_schema), and llama.cpp's
// `json_schema` (a raw schema) and `grammar` (GBNF) — all compiled here to one Grammar, so every
// tier (serve's scheduler, the device model, /v1/verify) constrains with the same code.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "engine/grammar.h"

namespace tandem::protocol {

struct OutputConstraint {
  // "" (free text), "json_object", "json_schema" or "grammar": what the request asked for, as the
  // ledger and the timings report it.
  std::string kind;
  // The request field that carried it ("response_format", "json_schema", "grammar").
  std::string field;
  std::optional<Grammar> grammar;  // set exactly when kind is not ""

  bool active() const { return grammar.has_value(); }
};

// The constraint a request body asks for. A bad schema or grammar, an unknown response_format type,
// or two of the three fields at once is a 400 ApiError naming the field, with the problem's
// location (JSON pointer into the schema, or line and column of the GBNF). `raw_body`, the body's
// text when the caller has it, keeps a schema's properties in the order they were written (the
// order they are generated in); without it they are in nlohmann::json's sorted order. Grammars of
// recent requests are reused, compiled once.
OutputConstraint parse_output_constraint(const nlohmann::json& body, std::string_view raw_body = {});

// A constraint given as GBNF text (the compiled form another tier sent: /v1/verify's "grammar");
// a 400 naming `field` when it does not compile.
OutputConstraint gbnf_constraint(const std::string& gbnf, const std::string& field);

}  // namespace tandem::protocol
