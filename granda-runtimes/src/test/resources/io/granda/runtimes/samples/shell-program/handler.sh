# The program-style sample the exec shim tests run: behaves by its argument.
if [ $# -eq 0 ]; then
  cat  # no argument: the payload came on stdin only
  exit 0
fi
input=$(cat)
case "$1" in
  fail) echo partial; echo "something broke" >&2; exit 3 ;;
  sleep) sleep 30 ;;
  leave) sleep 30 & echo left ;;
  env) echo "$GRANDA_METHOD $GRANDA_PATH $GRANDA_QUERY ${GRANDA_SOCKET:-nosocket}" ;;
  *) echo "arg=${1:0:20} stdin=${input:0:20}" ;;
esac
