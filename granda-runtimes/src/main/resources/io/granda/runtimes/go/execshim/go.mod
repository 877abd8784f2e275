module granda.io/execshim

go 1.19
