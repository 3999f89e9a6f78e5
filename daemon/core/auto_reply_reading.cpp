// Auto-replies (RFC 3834 and the vendor forms) and whether they say the person left: in
// English, German, French, Spanish and Dutch. A plain out-of-office ("away until the 5th",
// "not in the office today", "this inbox will not be monitored until January") is never a
// departure, so the cues are about leaving the organisation or a mailbox that is no longer
// used, never about being away.
#include <algorithm>

#include "mail_reading_parts.hpp"
#include "rapport/ascii.hpp"

namespace rapport::mail_reading {
namespace {

bool subject_says_auto(std::string_view f) {
    for (std::string_view prefix :
         {"automatic reply", "auto:", "auto-reply", "autoreply", "auto reply", "automatische antwort",
          "abwesenheitsnotiz", "abwesend", "réponse automatique", "respuesta automática", "automatisch antwoord",
          "afwezig", "out of office", "out of the office", "fuera de la oficina", "absence", "[mimecast]",
          "autosvar", "risposta automatica"})
        if (f.find(prefix) != std::string_view::npos) return true;
    return false;
}

}  // namespace

bool looks_like_auto_reply(const MailBody& body) {
    const std::string auto_submitted = ascii_lower(body.header("auto-submitted"));
    if (!auto_submitted.empty() && auto_submitted.rfind("no", 0) != 0) return true;
    for (const char* field : {"x-autoreply", "x-autorespond", "x-aol-autoreply", "x-mc-autoreply"})
        if (!body.header(field).empty()) return true;
    const std::string precedence = ascii_lower(body.header("precedence"));
    if (precedence == "auto_reply") return true;
    const bool weak = precedence == "bulk" || precedence == "junk" || !body.header("x-auto-response-suppress").empty() ||
                      !body.header("x-notes-item").empty();
    const std::string subject = fold_for_matching(body.subject);
    return subject_says_auto(subject) && (weak || subject.rfind("re:", 0) != 0);
}

void read_auto_reply(const MailBody& body, const std::vector<std::string>& own, MailVerdict& v) {
    const std::string text = fold_for_matching(std::string(unquoted_part(body.text)) + "\n" + body.subject);
    std::string cue;
    v.departure = contains_any(
        text,
        {// en
         "no longer with", "no longer work", "no longer employed", "no longer part of",
         "have left the company", "has left the company", "have left the organi", "has left the organi",
         "have left the firm", "has left the firm", "left the company", "has left ", "i have left ",
         "no longer in use", "no longer monitored", "no longer being monitored", "no longer active",
         "no longer valid", "no longer checked", "no longer in service",
         "my last day at", "my last day with", "have retired", "has retired",
         // de
         "nicht mehr bei ", "nicht mehr für ", "nicht mehr im unternehmen", "nicht mehr in der firma",
         "nicht mehr tätig", "nicht mehr beschäftigt", "hat das unternehmen verlassen", "habe das unternehmen verlassen",
         "hat die firma verlassen", "habe die firma verlassen", "aus dem unternehmen ausgeschieden", "ausgeschieden",
         "nicht mehr aktiv", "nicht mehr gelesen", "nicht mehr abgerufen", "nicht mehr genutzt",
         "nicht mehr bearbeitet", "nicht mehr gültig",
         // fr
         "ne fait plus partie", "ne fais plus partie", "ne travaille plus", "a quitté la société",
         "a quitté l'entreprise", "a quitté le groupe", "ai quitté la société", "ai quitté l'entreprise",
         "n'est plus en poste", "n'est plus active", "n'est plus valide", "n'est plus consultée",
         "n'est plus consulté", "n'est plus utilisée", "n'est plus lue", "ne suis plus chez", "ne suis plus en poste",
         "plus consultée", "plus consultée",
         // es
         "ya no trabaja", "ya no trabajo", "ya no forma parte", "ya no formo parte", "ya no pertenece",
         "ya no está activ", "ya no es válid", "ya no se revisa", "ya no será revisad", "ya no está en la empresa",
         "ha dejado la empresa", "dejó la empresa", "ha dejado de trabajar", "ya no se encuentra en la empresa",
         // nl
         "niet meer werkzaam", "niet meer in dienst", "niet meer actief", "niet meer gelezen", "niet meer in gebruik",
         "niet meer gebruikt", "niet langer werkzaam", "niet langer in dienst", "niet langer actief",
         "niet langer in gebruik", "uit dienst", "heeft het bedrijf verlaten", "heeft de organisatie verlaten",
         "heb het bedrijf verlaten"},
        &cue);
    // "has left " alone would also read "has left for the day": require it to name an
    // organisation-ish object or to be the whole cue of a reply that says where to write.
    if (v.departure && (cue == "has left " || cue == "i have left ")) {
        const std::size_t at = text.find(cue);
        const std::string_view after = std::string_view(text).substr(at + cue.size(), 40);
        v.departure = !(after.rfind("for ", 0) == 0 || after.rfind("the office", 0) == 0 || after.rfind("early", 0) == 0);
    }
    if (v.departure) v.departure_cue = cue;
    v.out_of_office = !v.departure &&
                      contains_any(text, {"out of the office", "out of office", "away", "vacation", "holiday", "leave",
                                          "not in the office", "in the office", "abwesend", "nicht im büro", "urlaub",
                                          "im büro", "absent", "congé", "vacaciones", "fuera de la oficina", "ausente",
                                          "afwezig", "vakantie", "op kantoor", "returning", "zurück", "de retour",
                                          "weer bereikbaar", "wieder erreichbar"});
    if (v.departure) {
        std::string sender = ascii_lower(body.from_address);
        for (const auto& a : find_addresses(body.text)) {
            if (a.address == sender || std::find(own.begin(), own.end(), a.address) != own.end()) continue;
            v.replacement = a.address;
            break;
        }
    }
    v.why = v.departure ? "an auto-reply saying the person left (\"" + v.departure_cue + "\")"
            : v.out_of_office ? "an out-of-office reply"
                              : "an auto-reply";
}

}  // namespace rapport::mail_reading
