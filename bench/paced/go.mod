module tokenwarden/bench/paced

go 1.22
