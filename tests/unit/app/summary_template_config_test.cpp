// rules.summary_drafts.template as load_rules reads it: a path relative to the rules file, the
// text checked by the core, and a clear error naming the key and the file when it is missing,
// too large or broken — so --check-config refuses it and a reload keeps the previous rules.
#include <catch2/catch.hpp>

#include "app/config_loader.hpp"
#include "test_process.hpp"

using namespace rapport;

namespace {

const char* rules_with(const std::string& summary_drafts) {
    static std::string text;
    text = R"({"organization": {"name": "V", "domains": ["vendor.example"]},
               "people": [{"id": "bob", "name": "Bob", "addresses": ["bob@vendor.example"]}],
               "accounts": [{"id": "a", "name": "A", "owner": "bob"}],
               "rules": {"summary_drafts": )" + summary_drafts + "}}";
    return text.c_str();
}

std::string render(const Diagnostics& ds) {
    std::string out;
    for (const auto& d : ds) out += d.to_string() + "\n";
    return out;
}

}  // namespace

TEST_CASE("a template next to the rules file is read, checked and used", "[config][summary]") {
    test::TempDir dir;
    test::write_file(dir / "rules.json", rules_with(R"({"subject": "Recap {title}", "template": "templates/summary.txt"})"));
    test::write_file(dir / "templates/summary.txt", "\xEF\xBB\xBFHello {user},\r\n{agenda}\r\n");
    const auto r = load_rules(dir / "rules.json");
    INFO(render(r.diagnostics));
    REQUIRE(r.rules);
    CHECK(r.rules->rules.summary_drafts.draft_template.subject == "Recap {title}");
    CHECK(r.rules->rules.summary_drafts.draft_template.body == "Hello {user},\n{agenda}\n");

    // An absolute path works as well; no template key means the built-in body.
    test::write_file(dir / "rules.json", rules_with("{\"template\": \"" + (dir / "templates/summary.txt") + "\"}"));
    CHECK(load_rules(dir / "rules.json").rules);
    test::write_file(dir / "rules.json", rules_with("{}"));
    const auto plain = load_rules(dir / "rules.json");
    REQUIRE(plain.rules);
    CHECK(plain.rules->rules.summary_drafts.draft_template.body.empty());
}

TEST_CASE("a missing template file is a clear error on the rules file", "[config][summary]") {
    test::TempDir dir;
    test::write_file(dir / "rules.json", rules_with(R"({"template": "nope.txt"})"));
    const auto r = load_rules(dir / "rules.json");
    CHECK(r.rules == nullptr);
    CHECK(render(r.diagnostics) == dir / "rules.json" + ": $.rules.summary_drafts.template: cannot read " +
                                       (dir / "nope.txt") + ": No such file or directory\n");

    std::filesystem::create_directories(dir / "folder.txt");
    test::write_file(dir / "rules.json", rules_with(R"({"template": "folder.txt"})"));
    CHECK(render(load_rules(dir / "rules.json").diagnostics) ==
          dir / "rules.json" + ": $.rules.summary_drafts.template: cannot read " + (dir / "folder.txt") +
              ": it is a directory, not a file\n");
}

TEST_CASE("a broken or oversized template fails the rules with its own positions", "[config][summary]") {
    test::TempDir dir;
    test::write_file(dir / "rules.json", rules_with(R"({"template": "summary.txt"})"));
    test::write_file(dir / "summary.txt", "Hello {user},\n\nNotes on {titel}\n");
    auto r = load_rules(dir / "rules.json");
    CHECK(r.rules == nullptr);
    CHECK(render(r.diagnostics) == dir / "summary.txt" + ":3:10: unknown variable {titel}; did you mean {title}?\n");

    test::write_file(dir / "summary.txt", std::string(100000, 'x'));
    r = load_rules(dir / "rules.json");
    CHECK(r.rules == nullptr);
    CHECK(render(r.diagnostics) == dir / "rules.json" + ": $.rules.summary_drafts.template: " + (dir / "summary.txt") +
                                       ": the file is too large (100000 bytes; the limit is 65536 bytes)\n");
}
