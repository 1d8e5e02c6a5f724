# Every public function declared in lib/include/kopro/*.h must have a doc
# comment right above it (house-style.md: parameters and units, errors,
# ownership, thread-safety, source). A group of prototypes on consecutive
# lines may share the comment above the first. Prints each undocumented one as
# FILE:LINE: NAME and exits 1 if there is any.
FNR == 1 { prev = ""; in_proto = 0; group_ok = 0 }
{
    line = $0
    if (in_proto) {
        if (line ~ /\);/ || line ~ /\)[[:space:]]*$/ || line ~ /__attribute__/) in_proto = 0
        prev = line
        next
    }
    # a prototype starts at column 0 with a type and has "name(" on the line
    if (line ~ /^[A-Za-z_][A-Za-z0-9_ \*]*[ \*]kopro_[a-z0-9_]+\(/ && line !~ /^(typedef|#|static inline)/) {
        name = line
        sub(/\(.*/, "", name)
        sub(/.*[ \*]/, "", name)
        documented = prev ~ /\*\/[[:space:]]*$/ || prev ~ /^[[:space:]]*\/\// || (group_ok && prev_was_proto)
        if (!documented) {
            printf "%s:%d: %s has no doc comment above it\n", FILENAME, FNR, name
            bad = 1
        }
        group_ok = documented
        prev_was_proto = 1
        if (line !~ /;/) in_proto = 1
        prev = line
        next
    }
    if (line ~ /^[[:space:]]*$/) { prev_was_proto = 0; next }
    prev_was_proto = 0
    prev = line
}
END { exit bad }
