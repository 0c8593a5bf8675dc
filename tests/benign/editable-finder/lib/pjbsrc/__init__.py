WHERE = "lib/pjbsrc"
