#include <catch2/catch.hpp>

#include "rapport/address.hpp"

using namespace rapport;

TEST_CASE("addresses are normalised the way people type them", "[address]") {
    CHECK(normalize_address("Jane@ACME.example") == "jane@acme.example");
    CHECK(normalize_address("  Jane Doe <Jane@Acme.Example>  ") == "jane@acme.example");
    CHECK(normalize_address("\"Doe, Jane\" <jane@acme.example>") == "jane@acme.example");
    CHECK(normalize_address("<jane@acme.example>") == "jane@acme.example");
    CHECK(normalize_address("\"jane\"@acme.example") == "jane@acme.example");
    CHECK(normalize_address("\"jane doe\"@acme.example") == "\"jane doe\"@acme.example");
    CHECK(normalize_address("mailto:Jane@acme.example") == "jane@acme.example");
    CHECK(normalize_address("MAILTO:jane@acme.example") == "jane@acme.example");
    CHECK(normalize_address("<@relay.example:jane@acme.example>") == "jane@acme.example");
    CHECK(normalize_address("jane@acme.example.") == "jane@acme.example");
    auto parsed = parse_address("\"Doe, Jane\" <jane@acme.example>");
    REQUIRE(parsed);
    CHECK(parsed->display_name == "Doe, Jane");
}

TEST_CASE("IDN domains compare equal in Unicode and punycode", "[address]") {
    CHECK(punycode_encode("bücher") == "bcher-kva");
    CHECK(punycode_encode("münchen") == "mnchen-3ya");
    CHECK(normalize_domain("Bücher.example") == "xn--bcher-kva.example");
    CHECK(normalize_domain("BÜCHER.example") == "xn--bcher-kva.example");
    CHECK(normalize_domain("xn--bcher-kva.example") == "xn--bcher-kva.example");
    CHECK(normalize_address("Ünal@Bücher.example") == "ünal@xn--bcher-kva.example");
    CHECK(normalize_domain("пример.испытание") == "xn--e1afmkfd.xn--80akhbyknj4f");
}

TEST_CASE("things that are not addresses are refused", "[address]") {
    for (const char* bad : {"", "jane", "@acme.example", "jane@", "jane at acme", "jane@acme..example",
                            "ja ne@acme.example", "jane@ac me.example", ".jane@acme.example",
                            "jane.@acme.example", "jane@-", "\"\"@acme.example", "jane@\xff\xfe"})
    {
        INFO(bad);
        CHECK_FALSE(normalize_address(bad).has_value());
    }
}

TEST_CASE("the lookup's shortcut takes only addresses normalize_address gives back unchanged", "[address]") {
    for (const char* yes : {"jane@acme.example", "j.doe+tag@mail.acme-corp.example", "a@b", "x_y@sub_1.example",
                            "o'neil@acme.example"})
        CHECK((is_normalized_address(yes) && normalize_address(yes) == std::string(yes)));
    // Each of these normalises to something else, or not at all: the shortcut must not take it.
    for (const char* no : {"Jane@acme.example", "jane@ACME.example", "jane@acme.example.", " jane@acme.example",
                           "<jane@acme.example>", "mailto:jane@acme.example", "\"jane doe\"@acme.example",
                           "jane@-acme.example", "jane@acme-.example", "jane@acme..example", "jane..doe@acme.example",
                           "@acme.example", "jane@", "jane", "jos\xc3\xa9@acme.example", "jane@b\xc3\xbc" "cher.example",
                           "jane@[192.0.2.1]", "a@b@c"}) {
        CAPTURE(no);
        CHECK_FALSE(is_normalized_address(no));
    }
    CHECK_FALSE(is_normalized_address("jane@" + std::string(64, 'a') + ".example"));  // a label over 63
    CHECK(is_normalized_address("jane@" + std::string(63, 'a') + ".example"));
}
