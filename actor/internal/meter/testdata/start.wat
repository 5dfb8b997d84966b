;; start.wat: a start function that never returns, so instantiating the
;; module never ends unless something stops it.
(module
  (func $forever (loop $l (br $l)))
  (start $forever))
