#include "engine/jinja_eval.h"

#include <cmath>

#include "engine/jinja.h"
#include "engine/jinja_parser.h"

namespace tandem::jinja {

namespace {

constexpr int kMaxCallDepth = 200;
constexpr std::string_view kErrorPrefix = "template error at line ";

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

}  // namespace

void Renderer::step() {
  if (++steps_ > kMaxSteps) fail("the template runs more than " + std::to_string(kMaxSteps) + " loop iterations and macro calls");
}

Value CallArgs::take(size_t i, std::string_view name, Value fallback) {
  if (used_.size() < pos.size() + kw.size()) used_.resize(pos.size() + kw.size(), false);
  for (size_t k = 0; k < kw.size(); ++k)
    if (kw[k].first == name) {
      used_[pos.size() + k] = true;
      return kw[k].second;
    }
  if (i < pos.size()) {
    used_[i] = true;
    return pos[i];
  }
  return fallback;
}

void CallArgs::expect_consumed(std::string_view what) const {
  for (size_t k = 0; k < pos.size() + kw.size(); ++k)
    if (k >= used_.size() || !used_[k])
      fail(std::string(what) + ": unexpected argument" + (k >= pos.size() ? " '" + kw[k - pos.size()].first + "'" : ""));
}

Value* Scope::find_local(std::string_view name) {
  for (auto& [k, v] : vars)
    if (k == name) return &v;
  return nullptr;
}

Value Scope::lookup(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent.get())
    for (const auto& [k, v] : s->vars)
      if (k == name) return v;
  return Value::undefined(std::string(name));
}

void Scope::set(std::string_view name, Value v) {
  if (Value* slot = find_local(name)) *slot = std::move(v);
  else vars.emplace_back(std::string(name), std::move(v));
}

ValueList iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return v.items();
    case Value::Kind::Dict: {
      ValueList keys;
      for (const auto& [k, val] : v.dict_data().entries) keys.push_back(k);
      return keys;
    }
    case Value::Kind::String: {
      ValueList chars;
      for (std::string_view c : utf8_chars(v.as_string())) chars.emplace_back(c);
      return chars;
    }
    default: fail("'" + v.type_name() + "' object is not iterable");
  }
}

size_t value_length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::List:
      if (v.list_data().is_generator()) fail("object of type 'generator' has no len()");
      return v.items().size();
    case Value::Kind::Dict: return v.dict_data().entries.size();
    case Value::Kind::String: return utf8_chars(v.as_string()).size();
    default: fail("object of type '" + v.type_name() + "' has no len()");
  }
}

Renderer::Renderer(Value context, std::time_t now) : globals_(std::make_shared<Scope>()), now_(now) {
  add_globals(*globals_);
  if (context.is_dict())
    for (const auto& [k, v] : context.dict_data().entries) globals_->set(k.str(), v);
  scope_ = std::make_shared<Scope>();
  scope_->parent = globals_;
}

Renderer::~Renderer() = default;

std::string Renderer::render(const Body& body) {
  std::string out;
  exec(body, out);
  return out;
}

Renderer::Flow Renderer::exec(const Body& body, std::string& out) {
  for (const auto& n : body) {
    const Flow f = exec_node(*n, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec_node(const Node& n, std::string& out) {
  try {
    switch (n.kind) {
      case Node::Kind::Text: out += n.text; break;
      case Node::Kind::Output:
        out += eval(*n.expr).str();
        check_size(out.size());
        break;
      case Node::Kind::If: return exec_if(n, out);
      case Node::Kind::For: exec_for(n, out); break;
      case Node::Kind::Set: exec_set(n); break;
      case Node::Kind::SetBlock: exec_set_block(n); break;
      case Node::Kind::Macro: exec_macro(n); break;
      case Node::Kind::CallBlock: exec_call_block(n, out); break;
      case Node::Kind::FilterBlock: exec_filter_block(n, out); break;
      case Node::Kind::Break: return Flow::Break;
      case Node::Kind::Continue: return Flow::Continue;
      case Node::Kind::Scope: return exec(n.body, out);
    }
  } catch (const Error& e) {
    if (std::string_view(e.what()).starts_with(kErrorPrefix)) throw;
    throw Error(std::string(kErrorPrefix) + std::to_string(n.line) + ": " + e.what());
  }
  return Flow::Normal;
}

Renderer::Flow Renderer::exec_if(const Node& n, std::string& out) {
  for (const auto& [cond, body] : n.branches)
    if (eval(*cond).truthy()) return exec(body, out);
  return exec(n.else_body, out);
}

namespace {

Value loop_object(const ValueList& items, size_t i) {
  // The keys are made once: a loop makes one of these per iteration.
  static const Value kKeys[] = {"index", "index0", "revindex", "revindex0", "first", "last",
                                "length", "depth", "depth0", "previtem", "nextitem", "cycle"};
  Value loop = Value::dict();
  auto& d = loop.dict_data();
  const size_t n = items.size();
  d.entries.reserve(12);
  const Value values[] = {Value(i + 1), Value(i), Value(n - i), Value(n - i - 1), Value(i == 0), Value(i + 1 == n),
                          Value(n), Value(1), Value(0),
                          i > 0 ? items[i - 1] : Value::undefined("loop.previtem"),
                          i + 1 < n ? items[i + 1] : Value::undefined("loop.nextitem"),
                          Value::function([i](Renderer&, CallArgs& a) -> Value {
                            if (a.pos.empty()) throw Error("no items for cycling given");
                            return a.pos[i % a.pos.size()];
                          })};
  for (size_t k = 0; k < 12; ++k) d.entries.emplace_back(kKeys[k], values[k]);
  return loop;
}

}  // namespace

namespace {

// Restores the renderer's current scope when a loop body or macro call ends, thrown or not.
class ScopeGuard {
 public:
  ScopeGuard(std::shared_ptr<Scope>& slot, std::shared_ptr<Scope> inner) : slot_(slot), saved_(slot) {
    slot_ = std::move(inner);
  }
  ~ScopeGuard() { slot_ = std::move(saved_); }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  std::shared_ptr<Scope>& slot_;
  std::shared_ptr<Scope> saved_;
};

std::shared_ptr<Scope> child_scope(const std::shared_ptr<Scope>& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

}  // namespace

void Renderer::bind_targets(const std::vector<std::string>& targets, const Value& item) {
  if (targets.size() == 1) {
    scope_->set(targets[0], item);
    return;
  }
  if (!item.is_list() && !item.is_string() && !item.is_dict())
    fail("cannot unpack non-iterable " + item.type_name() + " object");
  const ValueList parts = iterate(item);
  if (parts.size() != targets.size())
    fail("cannot unpack " + std::to_string(parts.size()) + " values into " + std::to_string(targets.size()) + " names");
  for (size_t k = 0; k < parts.size(); ++k) scope_->set(targets[k], parts[k]);
}

// Each iteration runs in a fresh scope under the loop's enclosing one, as in jinja2: a `set` in
// the body lasts for that iteration only.
void Renderer::exec_for(const Node& n, std::string& out) {
  const Value seq = eval(*n.expr);
  const std::shared_ptr<Scope> outer = scope_;
  ValueList items;
  if (n.cond) {
    for (const Value& item : iterate(seq)) {
      ScopeGuard guard(scope_, child_scope(outer));
      bind_targets(n.targets, item);
      if (eval(*n.cond).truthy()) items.push_back(item);
    }
  } else {
    items = iterate(seq);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    step();
    ScopeGuard guard(scope_, child_scope(outer));
    bind_targets(n.targets, items[i]);
    scope_->set("loop", loop_object(items, i));
    if (exec(n.body, out) == Flow::Break) break;
  }
  if (items.empty()) exec(n.else_body, out);
}

void Renderer::exec_set(const Node& n) {
  Value v = eval(*n.expr);
  if (!n.attr.empty()) {
    Value ns = scope_->lookup(n.name);
    if (!ns.is_dict() || !ns.dict_data().is_namespace) fail("can only assign attributes of a namespace() object");
    ns.dict_data().set(Value(n.attr), std::move(v));
    return;
  }
  if (n.targets.size() == 1) {
    scope_->set(n.targets[0], std::move(v));
    return;
  }
  const ValueList parts = iterate(v);
  if (parts.size() != n.targets.size()) fail("cannot unpack " + std::to_string(parts.size()) + " values");
  for (size_t k = 0; k < parts.size(); ++k) scope_->set(n.targets[k], parts[k]);
}

void Renderer::exec_set_block(const Node& n) {
  std::string text;
  exec(n.body, text);
  Value v(std::move(text));
  if (n.filter) v = eval_filter_chain(*n.filter, v);
  scope_->set(n.targets[0], std::move(v));
}

void Renderer::exec_filter_block(const Node& n, std::string& out) {
  std::string text;
  exec(n.body, text);
  out += eval_filter_chain(*n.filter, Value(std::move(text))).str();
}

Value Renderer::eval_filter_chain(const Expr& e, Value input) {
  if (e.kind != Expr::Kind::Filter && e.kind != Expr::Kind::Test) fail("expected a filter");
  if (const Expr* base = e.args[0].get()) {
    const bool chained = base->kind == Expr::Kind::Filter || base->kind == Expr::Kind::Test;
    input = chained ? eval_filter_chain(*base, std::move(input)) : eval(*base);
  }
  CallArgs args = eval_args(e, 1);
  if (e.kind == Expr::Kind::Test) return Value(apply_test(e.name, input, args) != e.negated);
  return apply_filter(e.name, input, args);
}

void Renderer::exec_macro(const Node& n) { scope_->set(n.name, make_macro(n, n.name)); }

Value Renderer::make_macro(const Node& n, const std::string& name) {
  std::weak_ptr<Scope> defining = scope_;
  const Node* node = &n;
  (void)name;
  return Value::function([node, defining](Renderer& r, CallArgs& args) { return r.call_macro(*node, defining, args); });
}

Value Renderer::call_macro(const Node& n, const std::weak_ptr<Scope>& defining, CallArgs& args) {
  if (depth_ >= kMaxCallDepth) fail("macro calls nested too deeply (recursion?)");
  step();
  auto parent = defining.lock();
  auto frame = std::make_shared<Scope>();
  frame->parent = parent ? parent : globals_;
  ValueList varargs;
  for (size_t i = 0; i < args.pos.size(); ++i) {
    if (i < n.params.size()) frame->set(n.params[i].name, args.pos[i]);
    else varargs.push_back(args.pos[i]);
  }
  Value kwargs = Value::dict();
  for (auto& [k, v] : args.kw) {
    bool is_param = false;
    for (const auto& p : n.params) is_param = is_param || p.name == k;
    if (is_param || k == "caller") frame->set(k, v);
    else kwargs.dict_data().set(Value(k), v);
  }
  ++depth_;
  struct DepthGuard {
    int& d;
    ~DepthGuard() { --d; }
  } depth_guard{depth_};
  ScopeGuard guard(scope_, frame);
  std::string out;
  for (const auto& p : n.params)
    if (!frame->find_local(p.name))
      frame->set(p.name, p.default_value ? eval(*p.default_value) : Value::undefined(p.name));
  frame->set("varargs", Value::list(std::move(varargs), true));
  frame->set("kwargs", kwargs);
  exec(n.body, out);
  return Value(std::move(out));
}

void Renderer::exec_call_block(const Node& n, std::string& out) {
  const Expr& call = *n.expr;
  Value fn = eval(*call.args[0]);
  CallArgs args = eval_args(call, 1);
  args.kw.emplace_back("caller", make_macro(n, "caller"));
  out += this->call(fn, args).str();
}

CallArgs Renderer::eval_args(const Expr& e, size_t first) {
  CallArgs a;
  a.line = e.line;
  for (size_t i = first; i < e.args.size(); ++i) a.pos.push_back(eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) a.kw.emplace_back(k, eval(*v));
  return a;
}

Value Renderer::call(const Value& fn, CallArgs& args) {
  if (fn.is_undefined()) fn.fail_undefined();
  if (!fn.is_callable()) fail("'" + fn.type_name() + "' object is not callable");
  return fn.function_ref()(*this, args);
}

Value Renderer::apply_filter(std::string_view name, const Value& input, CallArgs& args) {
  const FilterFn f = find_filter(name);
  if (!f) fail("no filter named '" + std::string(name) + "'");
  return f(*this, input, args);
}

bool Renderer::apply_test(std::string_view name, const Value& input, CallArgs& args) {
  const TestFn t = find_test(name);
  if (!t) fail("no test named '" + std::string(name) + "'");
  return t(*this, input, args);
}

}  // namespace tandem::jinja

namespace tandem {

struct JinjaTemplate::Parsed {
  jinja::Body body;
};

JinjaTemplate::JinjaTemplate(std::string_view source) : parsed_(std::make_unique<Parsed>()) {
  parsed_->body = jinja::parse_template(source);
}

JinjaTemplate::~JinjaTemplate() = default;
JinjaTemplate::JinjaTemplate(JinjaTemplate&&) noexcept = default;
JinjaTemplate& JinjaTemplate::operator=(JinjaTemplate&&) noexcept = default;

std::string JinjaTemplate::render(const nlohmann::ordered_json& context, std::time_t now) const {
  jinja::Renderer r(jinja::Value::from_json(context), now ? now : std::time(nullptr));
  return r.render(parsed_->body);
}

std::string render_jinja(std::string_view source, const nlohmann::ordered_json& context, std::time_t now) {
  return JinjaTemplate(source).render(context, now);
}

}  // namespace tandem
