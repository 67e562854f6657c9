// The one Boost.Test main shared by every tests/test_*.cpp executable.
#define BOOST_TEST_MODULE detlab
#include <boost/test/unit_test.hpp>
