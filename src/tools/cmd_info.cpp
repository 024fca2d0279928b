// tandem info FILE: the metadata and tensor table of a GGUF file (like gguf-dump).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "engine/chat_template.h"
#include "format/error.h"
#include "format/gguf.h"
#include "tools/commands.h"

namespace tandem::tools {

static std::string value_text(const GgufValue& v, size_t max_elems) {
  switch (v.type) {
    case GgufValueType::STRING: {
      std::string s(v.str.substr(0, 200));
      return "\"" + s + (v.str.size() > 200 ? "...\"" : "\"");
    }
    case GgufValueType::F32: case GgufValueType::F64: return std::to_string(v.f);
    case GgufValueType::BOOL: return v.i ? "true" : "false";
    case GgufValueType::ARRAY: {
      std::string s = std::string("[") + gguf_value_type_name(v.elem_type) + " x " + std::to_string(v.count) + "]";
      if (v.elem_type == GgufValueType::STRING) {
        s += " ";
        for (size_t i = 0; i < v.strs.size() && i < max_elems; ++i) s += "\"" + std::string(v.strs[i]) + "\" ";
      }
      return s;
    }
    default: return std::to_string(v.i);
  }
}

int cmd_info(int argc, char** argv) {
  CLI::App app{"Print a GGUF file's metadata and tensors", argv[0]};
  std::string path;
  bool tensors = true;
  app.add_option("file", path, "GGUF file")->required();
  app.add_flag("!--no-tensors", tensors, "metadata only");
  CLI11_PARSE(app, argc, argv);
  try {
    GgufFile f = GgufFile::open(path);
    std::printf("GGUF v%u, %zu metadata keys, %zu tensors, alignment %u, data at byte %zu\n", f.version(),
                f.keys().size(), f.tensors().size(), f.alignment(), f.data_offset());
    // The chat template as llama.cpp's detection names it ("none" without tokenizer.chat_template),
    // and how tandem renders it.
    const auto source = f.opt_string("tokenizer.chat_template");
    std::string tmpl = "none";
    if (source) {
      try {
        const ChatTemplate t = ChatTemplate::from_name_or_source(*source);
        tmpl = t.name() + (t.is_jinja() ? " (Jinja, run by the interpreter)" : " (built-in)");
      } catch (const Error& e) {
        tmpl = std::string("not renderable: ") + e.what();
      }
    }
    std::printf("chat template: %s\n", tmpl.c_str());
    for (const auto& k : f.keys()) std::printf("  %-45s %s\n", k.c_str(), value_text(*f.find(k), 8).c_str());
    if (tensors)
      for (const auto& t : f.tensors())
        std::printf("  %-32s %-6s %-20s %10llu bytes @ %llu\n", t.name.c_str(), std::string(type_name(t.type)).c_str(),
                    t.shape_string().c_str(), (unsigned long long)t.nbytes, (unsigned long long)t.offset);
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem info: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
