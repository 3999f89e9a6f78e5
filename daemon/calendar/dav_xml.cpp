#include "calendar/dav_xml.hpp"

#include "rapport/utf8.hpp"

#include <cstdint>
#include <cstdlib>

namespace rapport::calendar {
namespace {

constexpr std::size_t kMaxDepth = 64;

std::string_view local_name(std::string_view name) {
    const auto colon = name.rfind(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// XML character references: NUL and non-characters become U+FFFD.
void append_utf8(std::string& out, unsigned long cp) {
    rapport::utf8::append(out, cp == 0 || cp > 0x10FFFF ? 0xFFFD : static_cast<std::uint32_t>(cp));
}

void append_decoded(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') {
            out += text[i];
            continue;
        }
        const auto semi = text.find(';', i);
        if (semi == std::string_view::npos || semi - i > 10) {
            out += '&';
            continue;
        }
        const std::string_view entity = text.substr(i + 1, semi - i - 1);
        if (entity == "lt") out += '<';
        else if (entity == "gt") out += '>';
        else if (entity == "amp") out += '&';
        else if (entity == "quot") out += '"';
        else if (entity == "apos") out += '\'';
        else if (!entity.empty() && entity[0] == '#') {
            const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
            const std::string digits(entity.substr(hex ? 2 : 1));
            const int base = hex ? 16 : 10;
            char* end = nullptr;
            const unsigned long cp = std::strtoul(digits.c_str(), &end, base);
            if (digits.empty() || *end != '\0') {
                out += '&';
                continue;
            }
            append_utf8(out, cp);
        } else {
            out += '&';
            continue;
        }
        i = semi;
    }
}

struct Scanner {
    std::vector<std::string> stack;  // local names of open elements
    std::string text;                // character data of the innermost element
    DavResource resource;            // the <response> being read
    DavResource found;               // props of the <propstat> being read
    std::string propstat_status;
    bool saw_multistatus = false;
    std::vector<DavResource> out;

    bool inside(std::string_view name) const {
        for (const auto& s : stack)
            if (s == name) return true;
        return false;
    }

    void open(std::string_view name) {
        stack.emplace_back(name);
        text.clear();
        if (name == "multistatus") saw_multistatus = true;
        if (name == "response") resource = DavResource{};
        if (name == "propstat") found = DavResource{}, propstat_status.clear();
    }

    void close(std::string_view name) {
        const bool in_propstat = inside("propstat");
        if (name == "href" && !in_propstat && inside("response")) resource.href = text;
        else if (name == "getetag" && in_propstat) found.etag = text;
        else if (name == "calendar-data" && in_propstat) found.calendar_data = text;
        else if (name == "getctag" && in_propstat) found.collection_tag = text;
        else if (name == "sync-token" && in_propstat && found.collection_tag.empty()) found.collection_tag = text;
        else if (name == "status" && in_propstat) propstat_status = text;
        else if (name == "propstat") {
            if (propstat_status.find(" 200") != std::string::npos) {
                if (!found.etag.empty()) resource.etag = found.etag;
                if (!found.calendar_data.empty()) resource.calendar_data = found.calendar_data;
                if (!found.collection_tag.empty()) resource.collection_tag = found.collection_tag;
            }
        } else if (name == "response") {
            if (!resource.href.empty()) out.push_back(std::move(resource));
            resource = DavResource{};
        }
        stack.pop_back();
        text.clear();
    }
};

}  // namespace

std::optional<std::vector<DavResource>> parse_multistatus(std::string_view xml, std::string& error) {
    Scanner scanner;
    std::size_t i = 0;
    while (i < xml.size()) {
        const auto lt = xml.find('<', i);
        const std::string_view chars = xml.substr(i, lt == std::string_view::npos ? std::string_view::npos : lt - i);
        if (!scanner.stack.empty()) append_decoded(scanner.text, chars);
        if (lt == std::string_view::npos) break;
        const std::string_view rest = xml.substr(lt);
        if (rest.substr(0, 9) == "<![CDATA[") {
            const auto end = rest.find("]]>");
            if (end == std::string_view::npos) break;
            scanner.text.append(rest.substr(9, end - 9));
            i = lt + end + 3;
            continue;
        }
        if (rest.substr(0, 4) == "<!--") {
            const auto end = rest.find("-->");
            if (end == std::string_view::npos) break;
            i = lt + end + 3;
            continue;
        }
        if (rest.substr(0, 2) == "<!") {
            error = "DAV reply with a DOCTYPE or declaration refused";
            return std::nullopt;
        }
        if (rest.substr(0, 2) == "<?") {
            const auto end = rest.find("?>");
            if (end == std::string_view::npos) break;
            i = lt + end + 2;
            continue;
        }
        // A tag: find its end outside quoted attribute values.
        std::size_t end = 1;
        char quote = 0;
        for (; end < rest.size(); ++end) {
            const char c = rest[end];
            if (quote) {
                if (c == quote) quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '>') {
                break;
            }
        }
        if (end >= rest.size()) break;
        std::string_view tag = rest.substr(1, end - 1);
        i = lt + end + 1;
        const bool closing = !tag.empty() && tag.front() == '/';
        const bool self_closing = !tag.empty() && tag.back() == '/';
        if (closing) tag.remove_prefix(1);
        if (self_closing && !tag.empty()) tag.remove_suffix(1);  // "</>" is both
        const auto name_end = tag.find_first_of(" \t\r\n/");
        const std::string_view name = local_name(tag.substr(0, name_end));
        if (closing) {
            if (scanner.stack.empty() || scanner.stack.back() != name) {
                error = "DAV reply is not well-formed XML (unexpected </" + std::string(name.substr(0, 40)) + ">)";
                return std::nullopt;
            }
            scanner.close(name);
            continue;
        }
        if (scanner.stack.size() >= kMaxDepth) {
            error = "DAV reply nested too deeply";
            return std::nullopt;
        }
        scanner.open(name);
        if (self_closing) scanner.close(name);
    }
    if (!scanner.saw_multistatus) {
        error = "DAV reply is not a multistatus document";
        return std::nullopt;
    }
    if (!scanner.stack.empty()) {
        error = "DAV reply ends early (unclosed <" + scanner.stack.back().substr(0, 40) + ">)";
        return std::nullopt;
    }
    return std::move(scanner.out);
}

}  // namespace rapport::calendar
