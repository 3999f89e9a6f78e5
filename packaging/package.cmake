# What `cmake --install` puts where, and the Debian package CPack builds from it:
#   cd build && cpack            ->  build/rapport_VERSION-1_ARCH.deb
# Paths are Debian's (prefix /usr). Files that other parts of the build make (the add-on, its
# native-messaging manifest) are OPTIONAL, so a tree without them still packages.
include(GNUInstallDirs)

set(RAPPORT_DEB_RELEASE 1 CACHE STRING "Debian revision of the package (the -N in VERSION-N)")
set(RAPPORT_PACKAGE_MAINTAINER "Rapport developers <rapport@example.org>" CACHE STRING
    "Maintainer field of the .deb")
set(RAPPORT_DEB_VERSION "${PROJECT_VERSION}-${RAPPORT_DEB_RELEASE}")
set(pkg_src ${CMAKE_CURRENT_SOURCE_DIR}/packaging)
set(pkg_out ${CMAKE_BINARY_DIR}/packaging)
set(doc_dir ${CMAKE_INSTALL_DATAROOTDIR}/doc/rapport)

install(TARGETS rapportd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET rapportctl)
  install(TARGETS rapportctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# The unit goes where systemd looks for packaged user units (not the multiarch libdir).
install(FILES ${pkg_src}/systemd/rapportd.service DESTINATION lib/systemd/user)
install(FILES ${pkg_src}/rules.schema.json DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/rapport)
install(FILES ${CMAKE_BINARY_DIR}/rapport-thunderbird.xpi DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/rapport OPTIONAL)
install(FILES ${pkg_src}/native-messaging/rapport.json DESTINATION lib/mozilla/native-messaging-hosts OPTIONAL)
install(DIRECTORY ${pkg_src}/examples/ DESTINATION ${doc_dir}/examples)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/docs/install.md ${CMAKE_CURRENT_SOURCE_DIR}/docs/rules.md
              ${CMAKE_CURRENT_SOURCE_DIR}/docs/api.md ${CMAKE_CURRENT_SOURCE_DIR}/docs/drafts.md
              ${CMAKE_CURRENT_SOURCE_DIR}/docs/submission.md
        DESTINATION ${doc_dir})
install(FILES ${pkg_src}/debian/copyright DESTINATION ${doc_dir})
# Built here, not uploaded to Debian: there is no bug for the first changelog entry to close.
install(FILES ${pkg_src}/debian/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides
        RENAME rapport)

# Man pages and the Debian changelog, compressed as Debian policy wants (gzip -9n: no name,
# no time stamp, so the package is reproducible).
set(RAPPORT_VERSION ${PROJECT_VERSION})
configure_file(${pkg_src}/debian/changelog.in ${pkg_out}/changelog.Debian @ONLY)
set(compressed ${pkg_out}/changelog.Debian.gz)
add_custom_command(OUTPUT ${pkg_out}/changelog.Debian.gz
                   COMMAND sh -c "gzip -9n -c '${pkg_out}/changelog.Debian' > '${pkg_out}/changelog.Debian.gz'"
                   DEPENDS ${pkg_out}/changelog.Debian VERBATIM)
install(FILES ${pkg_out}/changelog.Debian.gz DESTINATION ${doc_dir})
foreach(page rapportd.1 rapportctl.1)
  configure_file(${pkg_src}/man/${page} ${pkg_out}/man/${page} @ONLY)
  add_custom_command(OUTPUT ${pkg_out}/man/${page}.gz
                     COMMAND sh -c "gzip -9n -c '${pkg_out}/man/${page}' > '${pkg_out}/man/${page}.gz'"
                     DEPENDS ${pkg_out}/man/${page} VERBATIM)
  list(APPEND compressed ${pkg_out}/man/${page}.gz)
  install(FILES ${pkg_out}/man/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endforeach()
add_custom_target(rapport_package_files ALL DEPENDS ${compressed})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rapport)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "${RAPPORT_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${RAPPORT_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE ${RAPPORT_DEB_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://rapport.example.org/")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps customer relationships warm from your mail and calendar")
# CPack makes the first control line from the summary and indents this text below it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "rapportd is a small per-user daemon that watches IMAP mailboxes and
calendars, recognises mail and meetings with the customer accounts of an
admin's rules file, and tells the right people: the account owner is copied
when someone else writes to their customer, a summary draft waits in Drafts
after every customer call, and lost deals get follow-up nudges.

The package holds rapportd, rapportctl, a systemd user unit, the Thunderbird
add-on with its native-messaging manifest, and example files.")
# Depends computed from the binaries' libraries by dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "thunderbird")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only what install() names: the default would also package every test program.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};ALL;/")
include(CPack)
