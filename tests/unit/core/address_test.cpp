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
