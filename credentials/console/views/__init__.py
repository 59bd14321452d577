"""One module per page: registries (home, overview), long_term, temporary, access_keys, frame
(sign-in, password, language, health); base holds what they share."""
