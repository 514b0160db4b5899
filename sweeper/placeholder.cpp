// Keeps etrn_sweeper_lib non-empty before the sweeper has sources.
