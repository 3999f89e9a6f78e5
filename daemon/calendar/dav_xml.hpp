#pragma once
// Reads a WebDAV multistatus reply (RFC 4918) as CalDAV servers send it for a calendar-query
// REPORT: per resource its href, ETag and calendar data (and a collection's change tag). A small scanner rather than a full
// XML parser: namespaces are matched by local name (servers use D:, d:, or default
// namespaces), entities and CDATA are decoded, DOCTYPEs are refused. Never throws.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::calendar {

struct DavResource {
    std::string href;
    std::string etag;
    std::string calendar_data;
    std::string collection_tag;  // CS:getctag, else DAV:sync-token (PROPFIND on a collection)
};

// Resources whose propstat reported 200. Returns nothing (and sets error) for text that is
// not a multistatus document.
std::optional<std::vector<DavResource>> parse_multistatus(std::string_view xml, std::string& error);

}  // namespace rapport::calendar
