// Command encoding: nothing from a folder name, a password or a message can inject a command.
#include <catch2/catch.hpp>

#include "command_writer.hpp"
#include "mailbox_name.hpp"
#include "sequence_set.hpp"

using namespace rapport::imap;

TEST_CASE("astrings pick the safest form") {
    CHECK(astring_form("INBOX") == StringForm::atom);
    CHECK(astring_form("mia@vendor.example") == StringForm::atom);
    CHECK(astring_form("Sent Items") == StringForm::quoted);
    CHECK(astring_form("") == StringForm::quoted);
    CHECK(astring_form("NIL") == StringForm::quoted);
    CHECK(astring_form("a\"b") == StringForm::literal);
    CHECK(astring_form("a\\b") == StringForm::literal);
    CHECK(astring_form("x\r\nA2 DELETE INBOX") == StringForm::literal);
    CHECK(astring_form("p\xc3\xa4ss") == StringForm::literal);
    CHECK(astring_form("tab\there") == StringForm::literal);
    CHECK(astring_form(std::string("nul\0x", 5)) == StringForm::invalid);
    CHECK(astring_form(std::string(2000, 'a') + " b") == StringForm::literal);
}

TEST_CASE("synchronizing literals split the command into segments") {
    auto cmd = CommandWriter("A7", false).word("LOGIN").astring("mia").astring("se\"cret\r\n").finish();
    REQUIRE_FALSE(cmd.error);
    REQUIRE(cmd.segments.size() == 2);
    CHECK(cmd.segments[0] == "A7 LOGIN mia {9}\r\n");
    CHECK(cmd.segments[1] == "se\"cret\r\n\r\n");
}

TEST_CASE("LITERAL+ sends everything at once") {
    auto cmd = CommandWriter("A8", true).word("EXAMINE").astring("x\r\ny").finish();
    REQUIRE(cmd.segments.size() == 1);
    CHECK(cmd.segments[0] == "A8 EXAMINE {4+}\r\nx\r\ny\r\n");
}

TEST_CASE("LITERAL- only covers small literals") {
    auto small = CommandWriter("A1", false, true).literal("abc").finish();
    CHECK(small.segments.size() == 1);
    auto big = CommandWriter("A1", false, true).literal(std::string(5000, 'x')).finish();
    CHECK(big.segments.size() == 2);
}

TEST_CASE("NUL cannot be sent") {
    auto cmd = CommandWriter("A1", true).word("LOGIN").astring("u").astring(std::string("a\0b", 3)).finish();
    CHECK(cmd.error.code == Errc::invalid_argument);
    CHECK(cmd.segments.empty());
}

TEST_CASE("mailbox names round-trip through modified UTF-7") {
    CHECK(*encode_mailbox_name("INBOX") == "INBOX");
    CHECK(*encode_mailbox_name("Tom & Jerry") == "Tom &- Jerry");
    CHECK(*encode_mailbox_name("Gel\xc3\xb6scht") == "Gel&APY-scht");
    CHECK(*encode_mailbox_name("\xe5\x8f\xb0\xe5\x8c\x97") == "&U,BTFw-");
    CHECK(*decode_mailbox_name("&U,BTFw-") == "\xe5\x8f\xb0\xe5\x8c\x97");
    CHECK(*decode_mailbox_name("Gel&APY-scht") == "Gel\xc3\xb6scht");
    CHECK(*decode_mailbox_name("Tom &- Jerry") == "Tom & Jerry");
    const std::string emoji = "Mail \xf0\x9f\x93\xa7 box";
    CHECK(*decode_mailbox_name(*encode_mailbox_name(emoji)) == emoji);
    CHECK_FALSE(encode_mailbox_name("\xff\xfe"));
    CHECK_FALSE(decode_mailbox_name("&U,BTFw"));
    CHECK_FALSE(decode_mailbox_name("&!!-"));
    // A CR/LF in a folder name survives encoding as control characters become base64.
    CHECK(encode_mailbox_name("a\r\nb")->find('\r') == std::string::npos);
}

TEST_CASE("sequence sets compress and expand") {
    CHECK(compress_sequence_set({1, 2, 3, 5, 7, 8, 4294967295u}) == "1:3,5,7:8,4294967295");
    CHECK(compress_sequence_set(std::vector<std::uint32_t>{}).empty());
    std::vector<std::uint32_t> out;
    std::string why;
    CHECK(expand_sequence_set("1:3,9,12:10", 100, out, why));
    CHECK(out == std::vector<std::uint32_t>{1, 2, 3, 9, 10, 11, 12});
    out.clear();
    CHECK_FALSE(expand_sequence_set("1:1000", 100, out, why));
    CHECK_FALSE(expand_sequence_set("1,,2", 100, out, why));
    CHECK_FALSE(expand_sequence_set("0", 100, out, why));
    CHECK_FALSE(expand_sequence_set("4294967296", 100, out, why));
}
