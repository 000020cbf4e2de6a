module tokenwarden/bench/go-ceiling

go 1.22
